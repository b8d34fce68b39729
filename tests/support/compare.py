"""Comparing query results in the Prometheus API's shape: the same series,
the same timestamps, values within 1e-6 relative (NaN and infinities
exactly), or with ``exact`` the very same value strings, bit for bit as
Prometheus formats them."""

from __future__ import annotations

import math
from collections.abc import Callable


def same_value(a: str, b: str, exact: bool = False) -> bool:
    if exact:
        return a == b
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12)


def _key(metric: dict) -> tuple:
    return tuple(sorted(metric.items()))


def differences(ours: dict, theirs: dict, limit: int = 5, exact: bool = False, ordered: bool = False) -> list[str]:
    """What differs between two `data` objects, empty when they agree. With
    ``exact``, values must be the same strings; with ``ordered``, an instant
    vector's series must come in the same order (the answer of `sort`)."""
    if ours["resultType"] != theirs["resultType"]:
        return [f"result type {ours['resultType']} versus {theirs['resultType']}"]
    kind, a, b = ours["resultType"], ours["result"], theirs["result"]
    out: list[str] = []
    if kind in ("scalar", "string"):
        if a[0] != b[0] or (a[1] != b[1] if kind == "string" else not same_value(a[1], b[1], exact)):
            out.append(f"{a} versus {b}")
        return out
    field = "value" if kind == "vector" else "values"
    mine = {_key(s["metric"]): s[field] for s in a}
    other = {_key(s["metric"]): s[field] for s in b}
    if len(mine) != len(a):
        out.append("duplicate series in our result")
    if ordered and kind == "vector" and set(mine) == set(other) and len(mine) == len(a):
        order_a, order_b = [_key(s["metric"]) for s in a], [_key(s["metric"]) for s in b]
        if order_a != order_b:
            first = next(i for i in range(len(a)) if order_a[i] != order_b[i])
            out.append(
                f"series order differs from position {first}: {dict(order_a[first])} versus {dict(order_b[first])}"
            )
    for k in sorted(set(mine) ^ set(other)):
        out.append(f"series {dict(k)} only in {'ours' if k in mine else 'theirs'}")
    for k in sorted(set(mine) & set(other)):
        pa = [mine[k]] if kind == "vector" else mine[k]
        pb = [other[k]] if kind == "vector" else other[k]
        if [p[0] for p in pa] != [p[0] for p in pb]:
            out.append(f"series {dict(k)}: timestamps {[p[0] for p in pa][:5]}... versus {[p[0] for p in pb][:5]}...")
            continue
        bad = [(pa[i], pb[i]) for i in range(len(pa)) if not same_value(pa[i][1], pb[i][1], exact)]
        if bad:
            out.append(f"series {dict(k)}: values {bad[:3]}")
    return out[:limit]


def body_differences(ours: dict, theirs: dict, where: str, exact: bool = False, ordered: bool = False) -> list[str]:
    """What differs between two whole API answers: both succeed with the same
    data, or both fail with the same error type. ``exact`` and ``ordered`` as
    for `differences`."""
    if ours["status"] != theirs["status"]:
        return [f"{where}: ours {ours.get('error', 'succeeded')!r}, Prometheus {theirs.get('error', 'succeeded')!r}"]
    if ours["status"] == "error":
        if ours["errorType"] != theirs["errorType"]:
            return [f"{where}: error type {ours['errorType']} versus {theirs['errorType']} ({theirs['error']})"]
        return []
    return [f"{where}: {d}" for d in differences(ours["data"], theirs["data"], exact=exact, ordered=ordered)]


def settle(
    ours: dict, ask: Callable[[], dict], where: str, exact: bool = False, ordered: bool = False, retries: int = 8
) -> tuple[str, list[str], dict]:
    """Compares our answer with Prometheus's (``ask()`` fetches one), asking
    again when they differ: ("agree" | "unstable" | "differ", differences,
    Prometheus's first answer).

    Prometheus 2.42 is not always deterministic: in range queries (and
    subqueries) its evaluator collects a function's or an operator's output
    series in a Go map, so an aggregation above sees them in a random order,
    and sums, averages and standard deviations differ in their last bits (or
    more) and ties in topk and bottomk break differently from run to run;
    histogram_quantile's output order varies even in instant queries. Ours
    agrees if it is one of Prometheus's answers; if Prometheus's answers vary
    and ours is none of them, the outcome is "unstable"."""
    theirs = ask()
    diff = body_differences(ours, theirs, where, exact=exact, ordered=ordered)
    if not diff:
        return "agree", [], theirs
    varies = False
    for _ in range(retries):
        again = ask()
        if not body_differences(ours, again, where, exact=exact, ordered=ordered):
            return "agree", [], again
        # Compared as answers, not as JSON: the order of an instant vector's
        # series only counts when ordered.
        varies |= bool(body_differences(theirs, again, where, exact=exact, ordered=ordered))
    return ("unstable" if varies else "differ"), diff, theirs


def check(ours, reference, query: str, args: tuple) -> list[str]:
    """One query asked of ``ours`` (a querier) and of ``reference`` (a
    Prometheus): instant with ``(time,)``, a range with ``(start, end, step)``.
    Returns the differences, none when ours is one of Prometheus's answers
    (see :func:`settle`)."""
    if len(args) == 1:
        params = {"query": query, "time": args[0]}
        path = "/api/v1/query"
    else:
        params = {"query": query, "start": args[0], "end": args[1], "step": args[2]}
        path = "/api/v1/query_range"
    _, answer = ours.request(path, params)
    outcome, diff, _ = settle(answer, lambda: reference.api_body(path, **params), f"{query!r} {args}")
    return diff if outcome == "differ" else []
