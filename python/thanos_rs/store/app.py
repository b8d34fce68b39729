"""``thanos_rs store``: the store gateway process, run until SIGINT or SIGTERM
(``cmd/thanos/store.go`` upstream). Ready once the first sync with the bucket
has loaded its blocks; synced again every ``--sync-block-duration``."""

from __future__ import annotations

import argparse
import asyncio
import logging

from prometheus_client import CollectorRegistry, ProcessCollector

from thanos_rs import logs
from thanos_rs.errors import BucketConfigError, ThanosRsError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.flags import required_config
from thanos_rs.server import lifecycle
from thanos_rs.server.grpc import GRPCServer, ServerTLS
from thanos_rs.server.http import HTTPServer, build_app
from thanos_rs.store.bucket import BucketStore

log = logging.getLogger("store")

#: How soon a failed first sync is tried again.
FIRST_SYNC_RETRY = 5.0


def run(args: argparse.Namespace) -> int:
    logs.setup(args.log_level, args.log_format)
    try:
        bucket = Bucket.from_config(required_config(args))
    except BucketConfigError as e:
        log.error("running command failed err=%s", e)
        return 1
    return lifecycle.run(lambda stop: serve(args, bucket, stop))


async def serve(args: argparse.Namespace, bucket: Bucket, stop: asyncio.Event) -> int:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    prober = lifecycle.Prober()
    store = BucketStore(
        bucket, args.data_dir, registry, min_time=args.min_time.at(), max_time=args.max_time.at(),
        sync_concurrency=args.block_sync_concurrency, series_concurrency=args.store_grpc_series_max_concurrency,
        index_cache_size=args.index_cache_size, series_sample_limit=args.store_grpc_series_sample_limit,
        touched_series_limit=args.store_grpc_touched_series_limit, series_batch_size=args.debug_series_batch_size,
    )
    http = HTTPServer(build_app([], prober, registry), args.http_address, lifecycle.grace(args.http_grace_period))
    grpc_server = GRPCServer(
        args.grpc_address, prober,
        ServerTLS(args.grpc_server_tls_cert, args.grpc_server_tls_key, args.grpc_server_tls_client_ca),
        lifecycle.grace(args.grpc_grace_period), registry=registry,
    )
    grpc_server.add_store_api(store)
    log.info("starting store node bucket=%s", bucket.name)
    await http.start()
    grpc_started = False
    try:
        log.info("initializing bucket store")
        while not stop.is_set():
            try:
                await asyncio.to_thread(store.sync)
                break
            except ThanosRsError as e:
                # Thanos gives up here; waiting for the bucket lets the
                # process come up with it, and the probe says why meanwhile.
                prober.set_not_ready(f"initial sync: {e}")
                log.warning("initial synchronization failed, retrying err=%s", e)
            await lifecycle.sleep(stop, min(FIRST_SYNC_RETRY, args.sync_block_duration))
        if stop.is_set():
            return 0
        log.info("bucket store ready blocks=%d", len(store.core.ulids()))
        await grpc_server.start()
        grpc_started = True
        prober.set_ready()
        while not stop.is_set():
            await lifecycle.sleep(stop, args.sync_block_duration)
            if stop.is_set():
                break
            try:
                await asyncio.to_thread(store.sync)
            except ThanosRsError as e:
                log.warning("syncing blocks failed err=%s", e)
        return 0
    finally:
        prober.set_not_ready("stopping")
        await asyncio.gather(http.stop(), grpc_server.stop() if grpc_started else asyncio.sleep(0))
        log.info("exiting")

