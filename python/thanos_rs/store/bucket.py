"""The store gateway's blocks and its gRPC services (``BucketStore`` in
``pkg/store/bucket.go`` upstream).

Python decides which blocks to serve: a sync reads every ``meta.json`` of the
bucket, opens the blocks that appeared (the Rust ``BucketStore`` builds each
index's header in ``--data-dir``) and drops those that went, were marked for
deletion or fall outside ``--min-time``/``--max-time``. Rust answers the
calls, fetching postings, series and chunks from the bucket with ranged
reads; Python passes the finished messages to grpcio."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge

from thanos_rs import _core
from thanos_rs.errors import BadDataError, CorruptBlockError, LimitExceededError, StoreError, ThanosRsError
from thanos_rs.objstore import Bucket
from thanos_rs.block.metadata import Meta
from thanos_rs.objstore.block import fetch
from thanos_rs.store.cache_metrics import IndexCacheCollector
from thanos_rs.timestamp import STORE_MAX_TIME_MS, STORE_MIN_TIME_MS
# About how many bytes of messages one Rust call encodes, as for the sidecar.
from thanos_rs.sidecar.store import BATCH_BYTES

log = logging.getLogger("store")


class BucketStore:
    def __init__(self, bucket: Bucket, data_dir: str | Path, registry: CollectorRegistry, *,
                 min_time: int, max_time: int, sync_concurrency: int = 20, series_concurrency: int = 20,
                 index_cache_size: int, series_sample_limit: int = 0, touched_series_limit: int = 0,
                 series_batch_size: int) -> None:
        self.bucket = bucket
        self.dir = Path(data_dir)
        self.min_time, self.max_time = min_time, max_time
        self.sync_concurrency = max(1, sync_concurrency)
        self.core = _core.BucketStore(index_cache_size=index_cache_size, series_sample_limit=series_sample_limit,
                                      touched_series_limit=touched_series_limit, min_time=min_time,
                                      max_time=max_time, series_batch_size=series_batch_size)
        registry.register(IndexCacheCollector(self.core))
        self._series_gate = asyncio.Semaphore(max(1, series_concurrency))
        # The metric names and help of Thanos's bucket store and meta fetcher.
        self._loaded = Gauge("thanos_bucket_store_blocks_loaded", "Number of currently loaded blocks.",
                             registry=registry)
        self._loads = Counter("thanos_bucket_store_block_loads", "Total number of remote block loading attempts.",
                              registry=registry)
        self._load_failures = Counter("thanos_bucket_store_block_load_failures",
                                      "Total number of failed remote block loading attempts.", registry=registry)
        self._drops = Counter("thanos_bucket_store_block_drops", "Total number of local blocks that were dropped.",
                              registry=registry)
        self._syncs = Counter("thanos_blocks_meta_syncs", "Total blocks metadata synchronization attempts",
                              registry=registry)
        self._sync_failures = Counter("thanos_blocks_meta_sync_failures",
                                      "Total blocks metadata synchronization failures", registry=registry)

    def sync(self) -> None:
        """One sync with the bucket (blocking: run it in a thread). Raises
        when the bucket cannot be listed; a block that cannot be opened is
        logged, counted and tried again on the next sync."""
        self._syncs.inc()
        try:
            blocks = fetch(self.bucket)
        except ThanosRsError:
            self._sync_failures.inc()
            raise
        wanted = {ulid: meta for ulid, meta in blocks.metas.items() if self._serves(ulid, meta, blocks)}
        served = set(self.core.ulids())
        for ulid in sorted(served - wanted.keys()):
            self.core.remove_block(ulid)
            shutil.rmtree(self.dir / ulid, ignore_errors=True)
            self._drops.inc()
            log.info("dropped outdated block block=%s", ulid)
        new = [wanted[u] for u in sorted(wanted.keys() - served)]
        with ThreadPoolExecutor(self.sync_concurrency) as pool:
            list(pool.map(self._add, new))
        self._loaded.set(len(self.core.ulids()))

    def _serves(self, ulid: str, meta: Meta, blocks) -> bool:
        if ulid in blocks.marked_for_deletion:
            return False
        return meta.min_time < self.max_time and meta.max_time > self.min_time

    def _add(self, meta: Meta) -> None:
        self._loads.inc()
        try:
            index_size = meta.files.get("index") or self.bucket.size(f"{meta.ulid}/index")
            segments = [(f"{meta.ulid}/chunks/{name}", size) for name, size in self._segments(meta)]
            self.core.add_block(self.bucket.core, json.dumps(meta.raw).encode(), index_size, segments,
                                sorted(meta.labels.items()), str(self.dir / meta.ulid))
        except ThanosRsError as e:
            self._load_failures.inc()
            log.warning("loading block failed block=%s err=%s", meta.ulid, e)
            return
        log.info("loaded new block block=%s", meta.ulid)

    def _segments(self, meta: Meta) -> list[tuple[str, int]]:
        """The chunk segment files in segment order, with their sizes: from
        the ``files`` of Thanos's section, else by listing the bucket."""
        sized = sorted((path.removeprefix("chunks/"), size) for path, size in meta.files.items()
                       if path.startswith("chunks/"))
        if sized and all(size for _, size in sized):
            return sized
        names = meta.segment_files or sorted(n.rsplit("/", 1)[-1] for n in self.bucket.iter(f"{meta.ulid}/chunks/"))
        return [(n, self.bucket.size(f"{meta.ulid}/chunks/{n}")) for n in names]

    def time_range(self) -> tuple[int, int]:
        """The range served: the blocks' within the flags' (Thanos's
        ``TimeRange``: MaxInt64 to MinInt64 without blocks)."""
        found = self.core.time_range()
        if found is None:
            return STORE_MAX_TIME_MS, STORE_MIN_TIME_MS
        return max(found[0], self.min_time), min(found[1], self.max_time)

    async def info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return _core.encode_store_gateway_info(self.core.label_sets(), *self.time_range())

    async def store_info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return _core.encode_store_gateway_store_info(self.core.label_sets(), *self.time_range())

    async def series(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        async with self._series_gate:
            try:
                answer = await asyncio.to_thread(self.core.series, request)
                while messages := await asyncio.to_thread(answer.next, BATCH_BYTES):
                    for message in messages:
                        yield message
            except ThanosRsError as e:
                await _abort(context, "Series", e)

    async def labels(self, values: bool, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        call = "LabelValues" if values else "LabelNames"
        try:
            return await asyncio.to_thread(self.core.label_values if values else self.core.label_names, request)
        except ThanosRsError as e:
            await _abort(context, call, e)
            raise  # abort() raises; never reached


async def _abort(context: grpc.aio.ServicerContext, call: str, e: ThanosRsError) -> None:
    if isinstance(e, BadDataError):
        code = grpc.StatusCode.INVALID_ARGUMENT
    elif isinstance(e, LimitExceededError):
        # Thanos v0.26's code for a call past its limits (later ones answer ResourceExhausted).
        code = grpc.StatusCode.ABORTED
    elif isinstance(e, CorruptBlockError):
        code = grpc.StatusCode.DATA_LOSS
    elif isinstance(e, StoreError):
        # The bucket could not be read.
        code = grpc.StatusCode.UNAVAILABLE
    else:
        code = grpc.StatusCode.INTERNAL
    if code != grpc.StatusCode.INVALID_ARGUMENT:
        log.warning("%s failed code=%s err=%r", call, code.name, e.message)
    await context.abort(code, e.message)
