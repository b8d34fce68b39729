"""Re-records the golden remote-read response in this folder from a real
Prometheus 2.42: ``python tests/testdata/golden/record.py`` (needs Debian's
``prometheus`` package and the test dependencies).

It writes ``prom242-remote-read.om``, OpenMetrics text from a fixed-seed
generator, backfills it with ``promtool tsdb create-blocks-from openmetrics``,
starts Prometheus on it, asks ``/api/v1/read`` for every series in streamed XOR
chunks, and saves the raw response body as ``prom242-remote-read.frames``.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from support import remote_read  # noqa: E402
from support.datasets import fmt  # noqa: E402
from support.prometheus import PrometheusServer  # noqa: E402

# 2023-11-14T22:13:20Z, a fixed past time; the recorder keeps retention at 100y.
BASE_S = 1_700_000_000
MATCH_ALL = (2, "__name__", ".+")  # {__name__=~".+"}


def series() -> list[tuple[str, str, list[tuple[float, float]]]]:
    """(metric name, labels, [(timestamp s, value)]) of every series."""
    rnd = random.Random(242)
    out = []
    # Counters scraped every 15 s, with millisecond jitter and one reset; 600
    # samples cross 120-sample chunk cuts and a 2 h block boundary.
    for name, jitter in (("steady", 0), ("jitter", 3)):
        t, v, pts = BASE_S, 0.0, []
        for i in range(600):
            v = 0.0 if i == 400 else v + rnd.randrange(0, 100)
            pts.append((t + rnd.randint(-jitter, jitter) / 1000, v))
            t += 15
        out.append(("golden_requests_total", f'series="{name}"', pts))
    # A random walk with full-precision decimals.
    t, v, pts = BASE_S, 1000.0, []
    for _ in range(500):
        v += (rnd.random() - 0.5) * 10
        pts.append((t, v))
        t += 15
    out.append(("golden_temperature", 'series="walk"', pts))
    # Special values and irregular spacing: gaps of hours, bursts 1 ms apart.
    specials = [float("nan"), float("inf"), -float("inf"), 0.0, 1e300, -1e-300, 5e-324, 42.0]
    t, pts = BASE_S, []
    for i in range(300):
        t += rnd.choice([0.001, 0.001, 1, 15, 15, 3600, 7 * 3600])
        pts.append((round(t, 3), specials[i % len(specials)] if i % 3 == 0 else rnd.uniform(-1e6, 1e6)))
    out.append(("golden_temperature", 'series="special"', pts))
    # A constant.
    out.append(("golden_up", 'series="constant"', [(BASE_S + 15 * i, 1.0) for i in range(400)]))
    return out


def openmetrics() -> str:
    lines = []
    for name in sorted({s[0] for s in series()}):
        lines.append(f"# TYPE {name} {'counter' if name.endswith('_total') else 'gauge'}")
        for n, labels, pts in series():
            if n == name:
                lines += [f"{name}{{{labels}}} {fmt(v)} {t:.3f}" for t, v in pts]
    return "\n".join(lines + ["# EOF", ""])


def main() -> None:
    text = openmetrics()
    (HERE / "prom242-remote-read.om").write_text(text)
    with tempfile.TemporaryDirectory() as tmp, PrometheusServer(Path(tmp), openmetrics=text) as prom:
        body = remote_read.fetch(prom.url, remote_read.read_request([MATCH_ALL], 0, 2_000_000_000_000))
    (HERE / "prom242-remote-read.frames").write_bytes(body)
    print(f"recorded {len(body)} bytes of frames")


if __name__ == "__main__":
    main()
