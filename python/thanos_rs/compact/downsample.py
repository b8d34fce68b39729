"""The compactor's downsampling (``downsampleBucket`` of Thanos's
``cmd/thanos/downsample.go`` at v0.26): raw blocks of at least 40 hours get
a 5-minute copy, 5-minute blocks of at least 10 days a 1-hour copy, unless
blocks of that resolution already hold all their sources. The copy keeps
the source's labels (replica labels taken off, as the syncer sees them) and
history; the aggregates are computed in Rust (``rust/compact``)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from thanos_rs import _core
from thanos_rs.block import metadata
from thanos_rs.block import ulid as ulids
from thanos_rs.block.metadata import Meta
from thanos_rs.block.upload import upload
from thanos_rs.errors import BucketError, CompactionError, ThanosRsError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.block import download

log = logging.getLogger("compact")

#: ``downsample.ResLevel0/1/2``: raw, 5 minutes, 1 hour, in ms.
RESOLUTION_RAW, RESOLUTION_5M, RESOLUTION_1H = 0, 300_000, 3_600_000
#: ``ResLevel1DownsampleRange`` and ``ResLevel2DownsampleRange``: the block
#: span from which raw (5 m) blocks are downsampled to 5 m (1 h), so that
#: each gives about two chunks.
DOWNSAMPLE_RANGE_5M_MS = 40 * 3_600_000
DOWNSAMPLE_RANGE_1H_MS = 10 * 24 * 3_600_000
#: The next resolution of each, and the span it needs.
_NEXT = {RESOLUTION_RAW: (RESOLUTION_5M, DOWNSAMPLE_RANGE_5M_MS), RESOLUTION_5M: (RESOLUTION_1H, DOWNSAMPLE_RANGE_1H_MS)}


class DownsampleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.downsamples = Counter("thanos_compact_downsample_total", "Total number of downsampling attempts.",
                                   ["group"], registry=registry)
        self.failures = Counter("thanos_compact_downsample_failures_total",
                                "Total number of failed downsampling attempts.", ["group"], registry=registry)


def plan(metas: Iterable[Meta]) -> list[tuple[Meta, int]]:
    """The blocks to downsample and to which resolution, by ULID."""
    metas = sorted(metas, key=lambda m: m.ulid)
    done = {res: {s for m in metas if m.resolution == res for s in m.sources} for res in (RESOLUTION_5M, RESOLUTION_1H)}
    out = []
    for m in metas:
        if m.resolution not in _NEXT:
            continue
        res, span = _NEXT[m.resolution]
        if all(s in done[res] for s in m.sources) or m.max_time - m.min_time < span:
            continue
        out.append((m, res))
    return out


def downsample_bucket(bucket: Bucket, metas: Iterable[Meta], workdir: Path, hash_func: str,
                      metrics: DownsampleMetrics, concurrency: int = 1) -> int:
    """Downsamples what :func:`plan` picks, ``concurrency`` blocks at once;
    returns how many blocks it made."""

    def one(job: tuple[Meta, int]) -> None:
        m, res = job
        metrics.downsamples.labels(m.group_key).inc()
        try:
            _downsample(bucket, m, res, workdir, hash_func)
        except ThanosRsError:
            metrics.failures.labels(m.group_key).inc()
            raise

    jobs = plan(metas)
    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        # list() re-raises the first failure.
        list(pool.map(one, jobs))
    return len(jobs)


def _downsample(bucket: Bucket, m: Meta, res: int, workdir: Path, hash_func: str) -> None:
    begin = time.monotonic()
    src = workdir / m.ulid
    shutil.rmtree(src, ignore_errors=True)
    try:
        download(bucket, m.ulid, src)
    except BucketError as e:
        raise CompactionError(f"download block {m.ulid}: {e}") from None
    new = ulids.new()
    try:
        document = json.loads(_core.downsample_block(src, workdir, new, res))
    except ThanosRsError as e:
        raise CompactionError(f"downsample block {m.ulid} to window {res}: {e}") from None
    finally:
        shutil.rmtree(src, ignore_errors=True)
    bdir = workdir / new
    document["thanos"] = dict(document.get("thanos") or {}) | {"version": 1, "labels": m.labels,
                                                                "downsample": {"resolution": res}}
    metadata.write(bdir, document)
    (bdir / "tombstones").unlink(missing_ok=True)
    log.info("downsampled block from=%s to=%s resolution=%d duration=%.3fs", m.ulid, new, res,
             time.monotonic() - begin)
    try:
        upload(bucket, bdir, document, hash_func)
    except (BucketError, OSError) as e:
        raise CompactionError(f"upload downsampled block {new}: {e}") from None
    finally:
        shutil.rmtree(bdir, ignore_errors=True)
    log.info("uploaded block id=%s", new)
