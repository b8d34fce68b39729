"""``thanos_rs compact``: the compactor process (``runCompact`` of Thanos's
``cmd/thanos/compact.go`` at v0.26). Without ``--wait`` one run, then exit
with its outcome; with it, a run every ``--wait-interval`` and a cleanup
every ``--compact.cleanup-interval`` until SIGINT or SIGTERM. A halt (see
:class:`thanos_rs.errors.HaltError`) stops the work but not the process."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector

from thanos_rs import logs
from thanos_rs.compact import group, planner
from thanos_rs.compact.compactor import BucketCompactor, CompactorConfig
from thanos_rs.compact.metrics import CompactMetrics
from thanos_rs.compact.downsample import (
    DOWNSAMPLE_RANGE_1H_MS,
    DOWNSAMPLE_RANGE_5M_MS,
    RESOLUTION_1H,
    RESOLUTION_5M,
    RESOLUTION_RAW,
    DownsampleMetrics,
)
from thanos_rs.compact.syncer import SyncConfig, Syncer
from thanos_rs.errors import BucketConfigError, HaltError, ThanosRsError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.flags import required_config
from thanos_rs.server import lifecycle
from thanos_rs.server.http import HTTPServer, build_app

log = logging.getLogger("compact")


def run(args: argparse.Namespace) -> int:
    logs.setup(args.log_level, args.log_format)
    try:
        config = _config(args)
        bucket = Bucket.from_config(required_config(args))
    except (BucketConfigError, ValueError) as e:
        log.error("running command failed err=%s", e)
        return 1
    return lifecycle.run(lambda stop: serve(args, bucket, config, stop))


def _config(args: argparse.Namespace) -> CompactorConfig:
    """The flags checked as Thanos checks them before it starts."""
    if args.deduplication_func == "penalty" and not args.deduplication_replica_label:
        raise ValueError("penalty based deduplication needs at least one replica label specified")
    retention = {RESOLUTION_RAW: int(args.retention_raw * 1000), RESOLUTION_5M: int(args.retention_5m * 1000),
                 RESOLUTION_1H: int(args.retention_1h * 1000)}
    if not args.downsampling_disable:
        if 0 < retention[RESOLUTION_RAW] < DOWNSAMPLE_RANGE_5M_MS:
            raise ValueError("raw resolution must be higher than the minimum block size after which 5m resolution "
                             "downsampling will occur (40 hours)")
        if 0 < retention[RESOLUTION_5M] < DOWNSAMPLE_RANGE_1H_MS:
            raise ValueError("5m resolution retention must be higher than the minimum block size after which 1h "
                             "resolution downsampling will occur (10 days)")
    vertical = args.compact_enable_vertical_compaction or bool(args.deduplication_replica_label)
    return CompactorConfig(
        data_dir=Path(args.data_dir),
        compact=group.CompactConfig(ranges=planner.levels(args.debug_max_compaction_level), vertical=vertical,
                                    hash_func=args.hash_func, dedup_func=args.deduplication_func),
        retention_ms=retention,
        delete_delay_s=args.delete_delay,
        concurrency=args.compact_concurrency,
        downsampling=not args.downsampling_disable,
        downsample_concurrency=args.downsample_concurrency,
    )


async def serve(args: argparse.Namespace, bucket: Bucket, config: CompactorConfig, stop: asyncio.Event) -> int:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    metrics = CompactMetrics(registry)
    prober = lifecycle.Prober()
    http = HTTPServer(build_app([], prober, registry), args.http_address, lifecycle.grace(args.http_grace_period))
    syncer = Syncer(bucket, SyncConfig(
        consistency_delay_s=args.consistency_delay, delete_delay_s=args.delete_delay,
        replica_labels=tuple(args.deduplication_replica_label), min_time_ms=args.min_time.at(),
        max_time_ms=args.max_time.at(), concurrency=args.block_meta_fetch_concurrency,
    ), metrics)
    compactor = BucketCompactor(bucket, syncer, config, metrics, DownsampleMetrics(registry))
    if config.compact.vertical:
        log.info("vertical compaction is enabled replica_labels=%s", ",".join(args.deduplication_replica_label))
    log.info("starting compact node bucket=%s", bucket.name)
    await http.start()
    prober.set_ready()
    cleaner: asyncio.Task | None = None
    try:
        if not args.wait:
            try:
                await asyncio.to_thread(compactor.run)
            except ThanosRsError as e:
                log.error("running command failed err=%s", e)
                return 1
            return 0
        if args.compact_cleanup_interval > 0:
            cleaner = asyncio.create_task(_clean_every(compactor, args.compact_cleanup_interval, stop))
        while not stop.is_set():
            try:
                await asyncio.to_thread(compactor.run)
                metrics.iterations.inc()
            except HaltError as e:
                if args.debug_halt_on_error:
                    log.error("critical error detected; halting err=%s", e)
                    metrics.halted.set(1)
                    if cleaner is not None:
                        cleaner.cancel()
                    await stop.wait()
                    return 0
                log.error("running command failed err=critical error detected: %s", e)
                return 1
            except ThanosRsError as e:
                log.error("retriable error err=%s", e)
                metrics.retried.inc()
            await lifecycle.sleep(stop, args.wait_interval)
        return 0
    finally:
        if cleaner is not None:
            cleaner.cancel()
        prober.set_not_ready("stopping")
        await http.stop()
        log.info("exiting")


async def _clean_every(compactor: BucketCompactor, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await lifecycle.sleep(stop, interval)
        try:
            await asyncio.to_thread(compactor.clean)
        except ThanosRsError as e:
            log.error("failed to clean blocks err=%s", e)

