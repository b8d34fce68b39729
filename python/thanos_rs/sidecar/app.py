"""``thanos_rs sidecar``: the StoreAPI over one Prometheus, its probes and
metrics, and the config reloader, run until SIGINT or SIGTERM
(``cmd/thanos/sidecar.go`` upstream).

Start-up follows Thanos: HTTP first (healthy, not ready); the reloader at once;
the gRPC server once Prometheus's external labels are known, so that no querier
ever sees this sidecar without them. A Prometheus without external labels is
refused, as Thanos refuses it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

import aiohttp
from prometheus_client import CollectorRegistry, Gauge, ProcessCollector

from thanos_rs import flags, logs
from thanos_rs.errors import BucketConfigError, ShipperError
from thanos_rs.objstore import Bucket
from thanos_rs.server import lifecycle
from thanos_rs.server.grpc import GRPCServer, ServerTLS
from thanos_rs.server.http import HTTPServer, build_app
from thanos_rs.shipper import Shipper
from thanos_rs.sidecar.apis import PrometheusAPIs
from thanos_rs.sidecar.prometheus import PrometheusClient, PrometheusError, PrometheusMeta
from thanos_rs.sidecar.reloader import Reloader
from thanos_rs.sidecar.rules import PrometheusRules
from thanos_rs.sidecar.shipping import validate_prometheus
from thanos_rs.sidecar.store import PrometheusStore, open_tsdb
from thanos_rs.timestamp import STORE_MAX_TIME_MS

log = logging.getLogger("sidecar")

#: How often the first read of Prometheus's configuration is retried: Thanos
#: v0.26's fixed 2 s, or the heartbeat interval if that is shorter.
STARTUP_RETRY = 2.0
#: How long Prometheus may take to answer ``/-/reload``: it re-reads every file
#: and rebuilds scrape and rule managers before it answers.
RELOAD_TIMEOUT = 60.0
#: Where the shipper looks for blocks without --tsdb.path: Thanos's default.
DEFAULT_TSDB_PATH = "./data"


def run(args: argparse.Namespace) -> int:
    logs.setup(args.log_level, args.log_format)
    try:
        bucket = Bucket.from_flags(args.objstore_config_file, args.objstore_config)
    except BucketConfigError as e:
        log.error("running command failed err=%s", e)
        return 1
    return lifecycle.run(lambda stop: serve(args, bucket, stop))


async def serve(args: argparse.Namespace, bucket: Bucket | None, stop: asyncio.Event) -> int:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    prober = lifecycle.Prober()
    status = Gauge("thanos_status", "Represents status (0 indicates failure, 1 indicates success) of the component.",
                   ["check", "component"], registry=registry)
    if bucket is None:
        log.info("no supported bucket was configured, uploads will be disabled")
    client = PrometheusClient(args.prometheus_url)
    # v0.26 without object storage: --min-time is evaluated once, at start-up.
    # Everything up to the end of time, as v0.26 without object storage.
    meta = PrometheusMeta(client, prober, registry, args.min_time.at(), STORE_MAX_TIME_MS, status)
    http = HTTPServer(build_app([], prober, registry), args.http_address, lifecycle.grace(args.http_grace_period))
    grpc_server = GRPCServer(
        args.grpc_address, prober,
        ServerTLS(args.grpc_server_tls_cert, args.grpc_server_tls_key, args.grpc_server_tls_client_ca),
        lifecycle.grace(args.grpc_grace_period), registry=registry,
    )
    store = PrometheusStore(client, meta, registry, open_tsdb(args.tsdb_path, registry))
    grpc_server.add_store_api(store)
    grpc_server.add_service("thanos.Rules", {"Rules": PrometheusRules(client, meta, store).rules})
    for service, methods in PrometheusAPIs(client, meta, store).services().items():
        grpc_server.add_service(service, methods)
    reloader = Reloader(
        lambda: client.reload(RELOAD_TIMEOUT), registry,
        config_file=args.reloader_config_file, config_envsubst_file=args.reloader_config_envsubst_file,
        rule_dirs=args.reloader_rule_dirs, watch_interval=args.reloader_watch_interval,
        retry_interval=args.reloader_retry_interval,
    )

    log.info("starting sidecar prometheus_url=%s", client.url)
    try:
        await http.start()
    except OSError:
        await client.close()
        raise
    status.labels("healthy", "sidecar").set(1)
    status.labels("ready", "sidecar").set(0)
    log.info("listening for requests and metrics address=%s", args.http_address)
    tasks = [asyncio.create_task(reloader.run(stop)), asyncio.create_task(_log_version(client, args))]
    grpc_started = False
    try:
        interval, timeout = args.prometheus_get_config_interval, args.prometheus_get_config_timeout
        first = meta.wait_first(stop, min(STARTUP_RETRY, interval), timeout)
        try:
            # Uploads give Prometheus --prometheus.ready_timeout to come up, as Thanos does.
            started = await asyncio.wait_for(first, args.prometheus_ready_timeout if bucket else None)
        except asyncio.TimeoutError:
            log.error("aborting as no external labels found after waiting %s",
                      flags.model_duration(args.prometheus_ready_timeout))
            return 1
        if not started:
            return 0
        if not meta.external_labels:
            return 1  # refused: PrometheusMeta has said why
        if bucket is not None:
            try:
                if not await validate_prometheus(client, args.shipper_ignore_unequal_block_size, stop, timeout):
                    return 0
            except ShipperError as e:
                log.error("validate Prometheus flags: %s", e)
                return 1
            shipper = Shipper(
                bucket, args.tsdb_path or DEFAULT_TSDB_PATH, lambda: dict(meta.external_labels), registry,
                upload_compacted=args.shipper_upload_compacted,
                allow_out_of_order=args.shipper_allow_out_of_order_uploads,
                hash_func=args.hash_func, upload_concurrency=args.shipper_upload_concurrency,
            )
            tasks.append(asyncio.create_task(shipper.run(stop)))
        await grpc_server.start()
        grpc_started = True
        meta.start_serving()
        # A probe of the sidecar's readiness is a read of Prometheus too.
        prober.confirm = meta.confirm
        tasks.append(asyncio.create_task(meta.heartbeat(stop, interval, timeout)))
        await stop.wait()
        return 0
    finally:
        prober.set_not_ready("stopping")
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(http.stop(), grpc_server.stop() if grpc_started else asyncio.sleep(0))
        await client.close()
        log.info("exiting")


async def _log_version(client: PrometheusClient, args: argparse.Namespace) -> None:
    """Logs Prometheus's version once it answers (Thanos reads it to pick label
    API features; every supported Prometheus has them)."""
    while True:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, PrometheusError, KeyError, ValueError):
            version = await client.build_version(args.prometheus_get_config_timeout)
            log.info("Prometheus version version=%s", version)
            return
        await asyncio.sleep(STARTUP_RETRY)
