"""The installed wheel's smoke test, run by scripts/smoke_wheel.sh with a fresh
virtual environment's Python, from outside the checkout, without Rust on PATH.

Usage: python smoke.py ANCHORS_FILE   (tests/testdata/anchors/prom242-xor-chunks.bin)
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import thanos_rs
from thanos_rs import chunkenc, promql


def check_installed() -> None:
    """The package under test is the wheel in this environment, and nothing
    here could have built it."""
    assert shutil.which("cargo") is None and shutil.which("rustc") is None, "Rust is on PATH"
    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    where = Path(thanos_rs.__file__).resolve()
    assert where.is_relative_to(site), f"thanos_rs imported from {where}, not from {site}"


def check_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "thanos_rs", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("sidecar", "query", "demo"):
        assert command in out, f"`python -m thanos_rs --help` does not list {command}"


def check_chunk(anchors: Path) -> None:
    """The first chunk Prometheus 2.42 wrote (a counter of 120 samples, see the
    anchors' README) decodes and re-encodes to the same bytes."""
    data = anchors.read_bytes()
    (length,) = struct.unpack_from(">I", data, 0)
    chunk = data[4 : 4 + length]
    timestamps, values = chunkenc.decode_xor(chunk)
    ts = memoryview(timestamps).cast("B").cast("q").tolist()
    vs = memoryview(values).cast("B").cast("d").tolist()
    assert len(ts) == len(vs) == 120
    assert abs(ts[0] - 1_700_000_000_000) <= 2 and ts == sorted(ts)
    assert vs == sorted(vs) and vs[0] >= 1000.0
    assert chunkenc.encode_xor(timestamps, values) == chunk


def check_engine() -> None:
    engine = promql.Engine()
    engine.load_openmetrics(
        "# TYPE up gauge\n"
        'up{job="a"} 1 0\n'
        'up{job="b"} 1 0\n'
        'up{job="b"} 0 15\n'
        "# EOF\n"
    )
    data = engine.query("sum(up)", 15.0)
    assert data["resultType"] == "vector", data
    [sample] = data["result"]
    assert sample["metric"] == {} and sample["value"][1] == "1", data


def main() -> None:
    check_installed()
    check_cli()
    check_chunk(Path(sys.argv[1]))
    check_engine()
    print(f"smoke: thanos_rs {thanos_rs.__version__} on Python {sys.version.split()[0]}: ok")


if __name__ == "__main__":
    main()
