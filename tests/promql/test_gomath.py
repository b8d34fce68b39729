"""PromQL's math functions and operators against a real Prometheus 2.42, bit
for bit: every answer must equal Prometheus's exactly (no tolerance), series
by series, for a few thousand diverse inputs. Prometheus computes with Go
1.19's `math` package on amd64; our engine reproduces it (rust/promql's
engine/gomath), where the C library would differ in the last bit.

The answers are compared as the doubles their strings spell (bits, the sign of
zero included), not as strings: our engine spells some values differently
from Prometheus, which is a matter of formatting, not of math. Prometheus
writes sample values in exponent notation below 1e-6 and from 1e21 on, ours
positionally; and where two 17-digit strings are equally near a double
(2^-25, 1e15 + 0.25), Go picks the even last digit, ours the upper one."""

from __future__ import annotations

import math
import random
import struct

import pytest

from support.datasets import fmt
from support.prometheus import PrometheusServer
from thanos_rs.promql import Engine

pytestmark = pytest.mark.prometheus

T = 1_700_000_000  # when every input sample is written
QUERY_AT = T + 10


def next_up(x: float, n: int = 1) -> float:
    for _ in range(n):
        x = math.nextafter(x, math.inf)
    return x


def next_down(x: float, n: int = 1) -> float:
    for _ in range(n):
        x = math.nextafter(x, -math.inf)
    return x


def with_neighbours(x: float, n: int = 2) -> list[float]:
    return [next_down(x, k) for k in range(n, 0, -1)] + [x] + [next_up(x, k) for k in range(1, n + 1)]


def inputs() -> list[float]:
    """Distinct test values (by bits), in a fixed order."""
    rnd = random.Random(119)
    inf, tiny = math.inf, 5e-324
    v: list[float] = [0.0, -0.0, inf, -inf, math.nan, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 0.1, -0.1]
    # Subnormals and the edges of the range.
    v += [tiny, -tiny, 2 * tiny, 3 * tiny, 1e-320, 1e-310, -1e-315, 2.225073858507201e-308]
    v += [2.2250738585072014e-308, -2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308]
    v += [2.0**-k for k in range(1, 1075, 7)] + [-(2.0**-k) for k in range(3, 1075, 53)]
    v += [10.0**-k for k in range(1, 324, 3)] + [10.0**k for k in range(1, 309, 4)]
    # Integers and half-integers, powers of two and ten, and big ones.
    v += [float(i) for i in range(-60, 61)] + [i + 0.5 for i in range(-20, 20)]
    v += [2.0**k for k in range(1, 1024, 11)] + [-(2.0**k) for k in range(5, 1024, 37)]
    v += [1e15 + 0.5, -(1e15 + 0.5), 1e15 + 0.25, 2.0**51 + 0.5, 2.0**52, 2.0**53, 2.0**53 + 2, 2.0**63, 2.0**64]
    v += [9007199254740991.0, -9007199254740991.0, 1e16, 1e22, 1e300, -1e300, 123456789.123, -987654321.5]
    # Near 1 (logarithms), and near ±1 (asin, acos, atanh).
    for base in (1.0, -1.0):
        v += with_neighbours(base, 6)
        v += [base + s * 10.0**-k for k in range(1, 17) for s in (1, -1)]
    v += [math.sqrt(2), math.sqrt(2) / 2, math.sqrt(0.5), math.e, math.pi, math.log(2), math.log(10)]
    # Fractions equal to sqrt(2)/2 at various exponents (the logarithm's
    # reduction threshold), and their neighbours.
    for k in (-1070, -1030, -500, -3, 0, 1, 5, 100, 1000):
        v += with_neighbours(math.ldexp(0.7071067811865476, k), 1)
    # Near multiples of pi/4 and pi/2 (trigonometry's octants and poles).
    for n in range(-40, 41):
        v += with_neighbours(n * math.pi / 4, 1 if n % 2 else 2)
    for n in (1000, 12345, 10**6 + 1, 10**8, 333333333):
        v += with_neighbours(n * math.pi / 2, 1)
    # The three-part reduction's threshold (2^29) and Payne-Hanek beyond it.
    v += with_neighbours(2.0**29, 2) + with_neighbours(2.0**29 * math.pi, 1)
    v += [rnd.uniform(2.0**29, 2.0**40) for _ in range(60)]
    v += [math.ldexp(rnd.uniform(0.5, 1), rnd.randint(40, 1024)) * rnd.choice((1, -1)) for _ in range(120)]
    # Exp's thresholds: the overflow cut-off, the last exponents, subnormal results.
    v += [rnd.uniform(-750, 712) for _ in range(250)]
    v += with_neighbours(709.782712893384, 2) + with_neighbours(709.78, 1) + [709.0, 709.3, 709.43, 709.44, 709.5]
    v += [-708.0, -708.3, -708.4, -708.5, -709.0, -720.0, -740.0, -744.4, -745.0, -745.2, -746.0, -1074.0, -1075.0]
    v += [rnd.uniform(-745, -700) for _ in range(60)] + [rnd.uniform(700, 710) for _ in range(40)]
    v += [21.0, 22.0, 44.0, 44.02, 44.015, 0.625, 0.6249999999999999, 2.0**28, 2.0**-28, 2.0**-29, 2.0**-54]
    # Plain ranges for the inverse and hyperbolic functions.
    v += [rnd.uniform(-1, 1) for _ in range(250)] + [rnd.uniform(-0.01, 0.01) for _ in range(40)]
    v += [rnd.uniform(-10, 10) for _ in range(250)] + [rnd.uniform(1, 3) for _ in range(60)]
    v += [rnd.uniform(-1e6, 1e6) for _ in range(100)]
    # Log-uniform magnitudes of both signs, and random bit patterns.
    v += [rnd.choice((1, -1)) * 10.0 ** rnd.uniform(-30, 30) for _ in range(500)]
    for _ in range(500):
        bits = rnd.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if not math.isnan(x):
            v.append(x)
    seen, out = set(), []
    for x in v:
        key = struct.pack("<d", x)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


VALUES = inputs()
# A second operand for the vector-vector operators: the same values shuffled.
OTHER = random.Random(7).sample(VALUES, len(VALUES))

FUNCTIONS = (
    "exp ln log2 log10 sqrt abs ceil floor sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh deg rad"
).split()
QUERIES = [
    *(f"{f}(gomath_x)" for f in FUNCTIONS),
    "gomath_x ^ 0.37",
    "gomath_x ^ 3",
    "gomath_x ^ -2.5",
    "gomath_x ^ 0.5",
    "gomath_x ^ -1",
    "gomath_x ^ 1.5e10",
    "2 ^ gomath_x",
    "0.5 ^ gomath_x",
    "10 ^ gomath_x",
    "1.0001 ^ gomath_x",
    "(-1.5) ^ gomath_x",
    "gomath_x ^ gomath_y",
    "gomath_x % 7.3",
    "7.3 % gomath_x",
    "gomath_x % -0.7",
    "gomath_x % gomath_y",
    "gomath_x atan2 0.7",
    "0.7 atan2 gomath_x",
    "gomath_x atan2 gomath_y",
]


def openmetrics() -> str:
    lines = ["# TYPE gomath_x gauge"]
    lines += [f'gomath_x{{i="{i:05}"}} {fmt(x)} {T}' for i, x in enumerate(VALUES)]
    lines += ["# TYPE gomath_y gauge"]
    lines += [f'gomath_y{{i="{i:05}"}} {fmt(y)} {T}' for i, y in enumerate(OTHER)]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, prometheus_binaries):
    text = openmetrics()
    engine = Engine()
    engine.load_openmetrics(text)
    with PrometheusServer(tmp_path_factory.mktemp("prom"), openmetrics=text) as prom:
        yield engine, prom


def exact(value: str) -> str:
    """A sample value string as the bits of its double (NaN, ±Inf as written)."""
    if value in ("NaN", "+Inf", "-Inf"):
        return value
    return struct.pack(">d", float(value)).hex()


def by_series(data: dict) -> dict[str, str]:
    assert data["resultType"] == "vector", data
    return {r["metric"]["i"]: r["value"][1] for r in data["result"]}


def test_inputs_are_diverse():
    assert 2500 <= len(VALUES) <= 5000
    assert sum(1 for x in VALUES if x != 0 and abs(x) < 2.2250738585072014e-308) >= 20
    assert sum(1 for x in VALUES if math.isfinite(x) and abs(x) >= 2.0**29) >= 300
    assert any(math.isnan(x) for x in VALUES) and math.inf in VALUES and -math.inf in VALUES


def test_math_functions_are_bit_exact(servers, capsys):
    engine, prom = servers
    x = {f"{i:05}": v for i, v in enumerate(VALUES)}
    y = {f"{i:05}": v for i, v in enumerate(OTHER)}
    problems, counts = [], {}
    for q in QUERIES:
        body = prom.api_body("/api/v1/query", query=q, time=QUERY_AT)
        assert body["status"] == "success", (q, body)
        theirs = by_series(body["data"])
        ours = by_series(engine.query(q, QUERY_AT))
        assert ours.keys() == theirs.keys(), q
        diff = [
            f"{q}: x={x[i]!r} y={y[i]!r}: ours {ours[i]} theirs {theirs[i]}"
            for i in sorted(ours)
            if exact(ours[i]) != exact(theirs[i])
        ]
        counts[q] = (len(theirs) - len(diff), len(theirs))
        problems += diff
    with capsys.disabled():
        print("\nexact matches with Prometheus 2.42, per query:")
        for q, (same, total) in counts.items():
            print(f"  {q:28} {same:5} of {total:5}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:60])


def test_count_values_labels_are_the_same_strings(servers):
    """count_values writes values into labels with Go's
    strconv.FormatFloat(v, 'f', -1, 64) on both sides, so here the strings
    themselves must be equal (the values of ln have no formatting ties)."""
    engine, prom = servers

    def labels(data: dict) -> list[tuple[str, str]]:
        return sorted((r["metric"]["v"], r["value"][1]) for r in data["result"])

    q = 'count_values("v", ln(gomath_x))'
    theirs = labels(prom.api("/api/v1/query", query=q, time=QUERY_AT))
    assert len(theirs) > 1500
    assert labels(engine.query(q, QUERY_AT)) == theirs
