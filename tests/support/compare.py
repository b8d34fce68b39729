"""Comparing query results in the Prometheus API's shape: the same series,
the same timestamps, values within 1e-6 relative (NaN and infinities
exactly)."""

from __future__ import annotations

import math


def same_value(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12)


def _key(metric: dict) -> tuple:
    return tuple(sorted(metric.items()))


def differences(ours: dict, theirs: dict, limit: int = 5) -> list[str]:
    """What differs between two `data` objects, empty when they agree."""
    if ours["resultType"] != theirs["resultType"]:
        return [f"result type {ours['resultType']} versus {theirs['resultType']}"]
    kind, a, b = ours["resultType"], ours["result"], theirs["result"]
    out: list[str] = []
    if kind in ("scalar", "string"):
        if a[0] != b[0] or (a[1] != b[1] if kind == "string" else not same_value(a[1], b[1])):
            out.append(f"{a} versus {b}")
        return out
    field = "value" if kind == "vector" else "values"
    mine = {_key(s["metric"]): s[field] for s in a}
    other = {_key(s["metric"]): s[field] for s in b}
    if len(mine) != len(a):
        out.append("duplicate series in our result")
    for k in sorted(set(mine) ^ set(other)):
        out.append(f"series {dict(k)} only in {'ours' if k in mine else 'theirs'}")
    for k in sorted(set(mine) & set(other)):
        pa = [mine[k]] if kind == "vector" else mine[k]
        pb = [other[k]] if kind == "vector" else other[k]
        if [p[0] for p in pa] != [p[0] for p in pb]:
            out.append(f"series {dict(k)}: timestamps {[p[0] for p in pa][:5]}... versus {[p[0] for p in pb][:5]}...")
            continue
        bad = [(pa[i], pb[i]) for i in range(len(pa)) if not same_value(pa[i][1], pb[i][1])]
        if bad:
            out.append(f"series {dict(k)}: values {bad[:3]}")
    return out[:limit]


def body_differences(ours: dict, theirs: dict, where: str) -> list[str]:
    """What differs between two whole API answers: both succeed with the same
    data, or both fail with the same error type."""
    if ours["status"] != theirs["status"]:
        return [f"{where}: ours {ours.get('error', 'succeeded')!r}, Prometheus {theirs.get('error', 'succeeded')!r}"]
    if ours["status"] == "error":
        if ours["errorType"] != theirs["errorType"]:
            return [f"{where}: error type {ours['errorType']} versus {theirs['errorType']} ({theirs['error']})"]
        return []
    return [f"{where}: {d}" for d in differences(ours["data"], theirs["data"])]
