"""Blocks of synthetic series, written by our own block writer
(``_core.write_block``): for data sets too large to pass through promtool's
OpenMetrics backfill, such as a month of 2,000 series."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

from thanos_rs import _core
from thanos_rs.block import ulid as ulids

#: Samples per chunk: Prometheus's head cuts chunks at 120 samples.
CHUNK_SAMPLES = 120

Labels = Sequence[tuple[str, str]]


def chunks(timestamps: Sequence[int], values: Sequence[float]) -> list[tuple[int, int, bytes]]:
    """The XOR chunks of one series, 120 samples each."""
    out = []
    for i in range(0, len(timestamps), CHUNK_SAMPLES):
        ts = array("q", timestamps[i : i + CHUNK_SAMPLES])
        vs = array("d", values[i : i + CHUNK_SAMPLES])
        out.append((ts[0], ts[-1], _core.encode_xor(ts, vs)))
    return out


def write_block(parent: Path, series: Iterable[tuple[Labels, Sequence[int], Sequence[float]]]) -> Path:
    """A level-1 block under ``parent`` holding ``series`` (labels,
    timestamps in ms, values); returns its directory."""
    meta = _core.write_block(parent, ulids.new(), [(labels, chunks(ts, vs)) for labels, ts, vs in series])
    return parent / json.loads(meta)["ulid"]
