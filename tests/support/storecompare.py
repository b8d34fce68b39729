"""Two StoreAPI servers over the same data, compared call by call: random
matchers over ``support.tsdb.DATA``'s labels and random time ranges, the
same series and samples (bit for bit), the same label answers or the same
failure. Used for the sidecar's two read paths and the store gateway."""

from __future__ import annotations

import random
import re

import grpc

from support.storeclient import EQ, NEQ, NRE, RE, StoreClient, by_bits
from support.tsdb import DATA

START_MS, END_MS = round(DATA.start * 1000), round(DATA.end * 1000)


def values_of(name: str) -> list[str]:
    return sorted({v for labels in DATA.series for n, v in labels if n == name})


def random_matchers(rnd: random.Random) -> list[tuple[int, str, str]]:
    """One to three matchers over DATA's labels, of every kind, with values
    that exist, regexes over them, and the empty value."""
    names = ["__name__", "job", "instance", "code", "le"]
    out = []
    for name in rnd.sample(names, rnd.randint(1, 3)):
        values = values_of(name)
        op = rnd.choice([EQ, NEQ, RE, NRE])
        if op in (EQ, NEQ):
            value = rnd.choice([*values, ""])
        else:
            chosen = rnd.sample(values, min(len(values), rnd.randint(1, 3)))
            value = "|".join(map(re.escape, chosen))
            value = rnd.choice([value, value + "|", ".*" + re.escape(chosen[0][:3]) + ".*", ".+"])
        out.append((op, name, value))
    return out


def random_range(rnd: random.Random) -> tuple[int, int]:
    a, b = sorted(rnd.randrange(START_MS - 3_600_000, END_MS + 3_600_000) for _ in range(2))
    return a, b


def outcome(call, client):
    """What a call answers, or the status code it fails with."""
    try:
        return call(client)
    except grpc.RpcError as e:
        return e.code()


def matches_empty(op: int, value: str) -> bool:
    if op in (EQ, NEQ):
        return (value == "") == (op == EQ)
    return (re.fullmatch(value, "") is not None) == (op == RE)


def compare(reference: StoreClient, ours: StoreClient, seed: int, cases: int, api_checks: bool = True) -> int:
    """Runs ``cases`` random cases; returns how many selected any series.
    Without ``api_checks``, ``ours`` answers label calls whose matchers all
    match the empty string, which the reference (a sidecar, passing on
    Prometheus's HTTP API) refuses: Thanos's store gateway answers them."""
    rnd = random.Random(seed)
    non_empty = 0
    for _ in range(cases):
        matchers, (start, end) = random_matchers(rnd), random_range(rnd)
        case = (matchers, start, end)
        got, want = ours.samples(matchers, start, end), reference.samples(matchers, start, end)
        assert by_bits(got) == by_bits(want), case
        non_empty += bool(want)
        name = rnd.choice(["job", "instance", "code", "__name__"])
        for call in (lambda c: c.label_values(name, matchers, start, end), lambda c: c.label_names(matchers, start, end)):  # noqa: B023
            mine, theirs = outcome(call, ours), outcome(call, reference)
            if not api_checks and theirs == grpc.StatusCode.INVALID_ARGUMENT and \
                    all(matches_empty(op, value) for op, _, value in matchers):
                assert isinstance(mine, list), (case, mine)
                continue
            assert mine == theirs, (case, mine, theirs)
        only = ours.samples(matchers, start, end, skip_chunks=True)
        assert only.keys() == got.keys(), case
    return non_empty
