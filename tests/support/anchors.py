"""The 3,000 chunks Prometheus 2.42 encoded (``tests/testdata/anchors``):
golden data for the tests and the input of the decode benchmarks."""

from __future__ import annotations

from pathlib import Path

PATH = Path(__file__).resolve().parents[1] / "testdata" / "anchors" / "prom242-xor-chunks.bin"


def load() -> list[bytes]:
    """The chunks, in file order: each is stored after its length (4 bytes, big-endian)."""
    data = PATH.read_bytes()
    out, i = [], 0
    while i < len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        out.append(data[i + 4 : i + 4 + size])
        i += 4 + size
    return out
