"""Uploads every block Prometheus cuts in its data directory to object
storage, once (``Shipper.Sync`` in ``pkg/shipper/shipper.go``, v0.26).

A sync walks the block directories from the oldest and uploads each that is
new: not listed in ``thanos.shipper.json`` and without a ``meta.json`` in the
bucket. Only blocks Prometheus cut from its head (compaction level 1) go up,
unless ``upload_compacted`` is set for a migration; those must not overlap
blocks already in the bucket with the same labels. Empty blocks are skipped.

A block is hard-linked into ``thanos/upload/<ULID>`` first, so that
Prometheus deleting or compacting it meanwhile cannot change what is
uploaded. Blocks go up in time order; a failed upload stops the sync there
(``allow_out_of_order`` carries on with newer blocks instead), and the run
loop retries with a growing delay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

from thanos_rs.block import metadata, upload
from thanos_rs.block.metadata import Meta
from thanos_rs.errors import ObjectNotFoundError, ShipperError, ThanosRsError
from thanos_rs.objstore.block import block_ids, is_ulid, read_meta
from thanos_rs.shipper import meta as shipper_meta

log = logging.getLogger("shipper")

#: How often the sidecar syncs: Thanos's fixed 30 s (``runutil.Repeat`` in
#: ``cmd/thanos/sidecar.go``).
SYNC_INTERVAL = 30.0
#: The first retry after a failed sync; each failure doubles it, up to the interval.
FIRST_RETRY = 1.0
#: Where blocks are hard-linked for upload, under the data directory.
UPLOAD_DIR = Path("thanos", "upload")


class Bucket(upload.Bucket, Protocol):
    """What a shipper asks of object storage."""

    def exists(self, name: str) -> bool: ...

    def iter(self, dir: str = "", recursive: bool = False) -> list[str]: ...

    def get(self, name: str) -> bytes: ...


class Shipper:
    def __init__(self, bucket: Bucket, data_dir: str | Path, labels: Callable[[], dict[str, str]],
                 registry: CollectorRegistry, *, source: str = metadata.SIDECAR_SOURCE,
                 upload_compacted: bool = False, allow_out_of_order: bool = False,
                 hash_func: str = "", upload_concurrency: int = 1) -> None:
        self.bucket = bucket
        self.dir = Path(data_dir)
        self.labels = labels
        self.source = source
        self.upload_compacted = upload_compacted
        self.allow_out_of_order = allow_out_of_order
        self.hash_func = hash_func
        self.upload_concurrency = upload_concurrency
        # The metric names and help of ``pkg/shipper``.
        self._dir_syncs = Counter("thanos_shipper_dir_syncs", "Total number of dir syncs", registry=registry)
        self._dir_sync_failures = Counter("thanos_shipper_dir_sync_failures",
                                          "Total number of failed dir syncs", registry=registry)
        self._uploads = Counter("thanos_shipper_uploads", "Total number of uploaded blocks", registry=registry)
        self._upload_failures = Counter("thanos_shipper_upload_failures",
                                        "Total number of block upload failures", registry=registry)
        self._corrupted = Counter("thanos_shipper_corrupted_blocks",
                                  "Total number of corrupted blocks", registry=registry)
        self._compacted_done = Gauge("thanos_shipper_upload_compacted_done",
                                     "If 1 it means shipper uploaded all compacted blocks from the filesystem.",
                                     registry=registry)

    async def run(self, stop: asyncio.Event, interval: float = SYNC_INTERVAL) -> None:
        """Syncs every ``interval`` until ``stop``; after a failure sooner, from
        ``FIRST_RETRY`` doubling up to ``interval``."""
        retry = FIRST_RETRY
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.sync)
                wait, retry = interval, FIRST_RETRY
            except (ThanosRsError, OSError) as e:
                log.warning("shipper sync failed err=%s next_attempt=%.0fs", e, min(retry, interval))
                wait, retry = min(retry, interval), min(retry * 2, interval)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    def sync(self) -> int:
        """Uploads what is new; returns how many blocks went up. Raises
        ShipperError when a block could not be uploaded or read."""
        try:
            uploaded = self._sync()
        except Exception:
            self._dir_sync_failures.inc()
            raise
        self._dir_syncs.inc()
        return uploaded

    def _sync(self) -> int:
        try:
            known = set(shipper_meta.read(self.dir))
        except FileNotFoundError:
            log.info("no meta file found, creating empty meta data to write later")
            known = set()
        except (OSError, ValueError) as e:
            log.error("failed to read meta file, creating empty meta data to write later err=%s", e)
            known = set()
        metas, corrupted = self._local_metas()
        overlaps: _OverlapChecker | None = None
        done: list[str] = []
        uploaded = failed = 0
        for meta in metas:
            ulid = meta.ulid
            if ulid in known:
                done.append(ulid)
                continue
            if meta.num_samples == 0:
                continue
            compacted = meta.compaction_level > 1
            if compacted and not self.upload_compacted:
                continue
            try:
                uploaded_before = self.bucket.exists(f"{ulid}/{metadata.META_FILENAME}")
            except ThanosRsError as e:
                raise ShipperError(f"check exists: {e}") from e
            if uploaded_before:
                done.append(ulid)
                continue
            if compacted and not self.allow_out_of_order:
                overlaps = overlaps or _OverlapChecker(self.bucket, self.labels())
                overlaps.check(meta)
            try:
                self._upload(meta)
            except (ThanosRsError, OSError) as e:
                self._upload_failures.inc()
                if not self.allow_out_of_order:
                    # The file is left as it was: the next sync starts over.
                    raise ShipperError(f"upload {ulid}: {e}") from e
                log.error("shipping failed block=%s err=%s", ulid, e)
                failed += 1
                continue
            done.append(ulid)
            uploaded += 1
            self._uploads.inc()
        try:
            shipper_meta.write(self.dir, done)
        except OSError as e:
            log.warning("updating meta file failed err=%s", e)
        if failed or corrupted:
            self._corrupted.inc(len(corrupted))
            raise ShipperError(f"failed to sync {failed}/{len(corrupted)} blocks")
        self._compacted_done.set(1 if self.upload_compacted else 0)
        return uploaded

    def _local_metas(self) -> tuple[list[Meta], list[str]]:
        """The metadata of every block directory, oldest first, and the names of
        those whose metadata cannot be read."""
        metas, corrupted = [], []
        for entry in os.scandir(self.dir):
            if not is_ulid(entry.name) or not entry.is_dir():
                continue
            try:
                metas.append(Meta.read(Path(entry.path)))
            except (ThanosRsError, OSError) as e:
                log.error("read metadata for block block=%s err=%s", entry.path, e)
                corrupted.append(entry.name)
        metas.sort(key=lambda m: m.min_time)
        return metas, corrupted

    def _upload(self, meta: Meta) -> None:
        ulid = meta.ulid
        log.info("upload new block id=%s", ulid)
        updir = self.dir / UPLOAD_DIR / ulid
        shutil.rmtree(updir, ignore_errors=True)
        try:
            _hardlink_block(self.dir / ulid, updir)
            document = metadata.with_thanos(meta.raw, self.labels(), self.source, upload.segment_files(updir))
            metadata.write(updir, document)
            upload.upload(self.bucket, updir, document, self.hash_func, self.upload_concurrency)
        finally:
            shutil.rmtree(updir, ignore_errors=True)


def _hardlink_block(src: Path, dst: Path) -> None:
    """Links the block's segments, index and metadata into ``dst`` (``hardlinkBlock``)."""
    chunks = dst / metadata.CHUNKS_DIRNAME
    chunks.mkdir(parents=True)
    for segment in upload.segment_files(src):
        os.link(src / metadata.CHUNKS_DIRNAME / segment, chunks / segment)
    for name in (metadata.META_FILENAME, metadata.INDEX_FILENAME):
        os.link(src / name, dst / name)


class _OverlapChecker:
    """Refuses a compacted block that overlaps a block in the bucket with the
    same labels (``lazyOverlapChecker``): uploading it would double samples
    that a compactor could not tell apart. The bucket is read once per sync,
    at the first compacted block."""

    def __init__(self, bucket: Bucket, labels: dict[str, str]) -> None:
        self.ranges: list[tuple[int, int, str]] = []
        for ulid in block_ids(bucket):
            try:
                meta = read_meta(bucket, ulid)
            except ObjectNotFoundError:
                continue  # No meta.json: an upload in progress.
            except ThanosRsError as e:
                raise ShipperError(f"get all block meta: {e}") from e
            if meta.labels == labels:
                self.ranges.append((meta.min_time, meta.max_time, ulid))

    def check(self, meta: Meta) -> None:
        for mint, maxt, ulid in self.ranges:
            # Half-open [minTime, maxTime), as TSDB's OverlappingBlocks reads them.
            if meta.min_time < maxt and mint < meta.max_time:
                raise ShipperError(
                    f"shipping compacted block {meta.ulid} is blocked; overlap spotted: "
                    f"[{mint}, {maxt}) with {ulid}"
                )
        self.ranges.append((meta.min_time, meta.max_time, meta.ulid))
