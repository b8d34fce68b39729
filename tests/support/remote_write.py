"""Prometheus remote write for tests: ``WriteRequest`` bodies built with the
Python protobuf stubs and compressed with cramjam's raw (block) snappy, the
bytes a Prometheus started with ``--web.enable-remote-write-receiver`` takes on
``POST /api/v1/write`` and ``thanos_rs.promql.Engine.load_remote_write`` takes
as they are.

Unlike promtool's OpenMetrics backfill, remote write carries any float bit
pattern, staleness markers included."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable

import cramjam

from support import protos

Series = tuple[tuple[str, str], ...]  # sorted label pairs, __name__ included

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def write_request(series: Iterable[tuple[Series, list[tuple[int, float]]]]) -> bytes:
    """A snappy-compressed WriteRequest of (labels, [(t ms, value)]) pairs;
    labels go out sorted by name, as Prometheus keeps them."""
    pb = protos.load()
    req = pb.remote.WriteRequest()
    for labels, samples in series:
        if not samples:
            continue
        ts = req.timeseries.add()
        for name, value in sorted(labels):
            ts.labels.add(name=name, value=value)
        for t, v in samples:
            ts.samples.add(timestamp=t, value=v)
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def time_sliced(series: dict[Series, list[tuple[int, float]]], slice_ms: int = 600_000) -> list[bytes]:
    """The samples as a list of bodies, one per time slice in time order.

    Prometheus's head refuses samples older than its newest one minus an hour
    ("out of bounds"), so all series must advance together: sending series one
    after the other would lose the early samples of all but the first."""
    lo = min(s[0][0] for s in series.values() if s)
    hi = max(s[-1][0] for s in series.values() if s)
    bodies = []
    cursor = {k: 0 for k in series}
    for edge in range(lo + slice_ms, hi + slice_ms + 1, slice_ms):
        batch = []
        for k, samples in series.items():
            i = j = cursor[k]
            while j < len(samples) and samples[j][0] < edge:
                j += 1
            if j > i:
                batch.append((k, samples[i:j]))
                cursor[k] = j
        if batch:
            bodies.append(write_request(batch))
    assert all(cursor[k] == len(s) for k, s in series.items())
    return bodies


def post(url: str, body: bytes) -> None:
    """POSTs one body to ``url/api/v1/write``; Prometheus answers 204, or 400
    with the reason when it refuses samples (out of order, out of bounds)."""
    req = urllib.request.Request(f"{url}/api/v1/write", data=body, headers=HEADERS, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            if r.status not in (200, 204):
                raise RuntimeError(f"remote write answered {r.status}: {r.read()!r}")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"remote write answered {e.code}: {e.read().decode(errors='replace')}") from None
