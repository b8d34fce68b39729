"""``thanos_rs query``: the endpoints, the querier, its HTTP API and UI, and
its own StoreAPI, run until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging

from prometheus_client import CollectorRegistry, Gauge

from thanos_rs import logs
from thanos_rs.api.v1 import APIConfig, QueryAPI
from thanos_rs.errors import FileSDError
from thanos_rs.flags import fail, feature_names, flag_map
from thanos_rs.query.discovery import Discovery
from thanos_rs.query.dns_sd import Provider, is_dynamic
from thanos_rs.query.endpoints import EndpointSet
from thanos_rs.query.filesd import FileSD, check_pattern
from thanos_rs.query.grpc_client import ChannelFactory, ClientTLS
from thanos_rs.query.proxy_apis import ProxyAPIs
from thanos_rs.query.querier import AsyncQuerier, QueryOptions
from thanos_rs.query.store import QueryStoreServer
from thanos_rs.server import lifecycle
from thanos_rs.server.grpc import GRPCServer, ServerTLS
from thanos_rs.server.http import HTTPServer, build_app
from thanos_rs.ui import ui_routes

log = logging.getLogger("query")


def parse_selector_labels(values: list[str]) -> list[tuple[str, str]]:
    """``--selector-label`` values, ``name="value"``."""
    out = []
    for v in values:
        name, sep, value = v.partition("=")
        if not sep or not name.strip():
            fail("thanos_rs query", f'--selector-label {v!r} is not name="value"')
        out.append((name.strip(), value.strip().strip('"')))
    return out


def run(args: argparse.Namespace) -> int:
    logs.setup(args.log_level, args.log_format)
    # Only the features the engine always has get this far (the others are
    # refused while parsing); Thanos v0.26 warns of them in the same words
    # (cmd/thanos/query.go).
    for name in feature_names(args.enable_feature):
        log.warning("This option for --enable-feature is now permanently enabled and therefore a no-op. option=%s", name)
    if args.grpc_client_tls_skip_verify:
        fail("thanos_rs query", "--grpc-client-tls-skip-verify is not supported: grpcio always verifies; "
             "pass the CA with --grpc-client-tls-ca")
    if args.query_default_evaluation_interval <= 0:
        fail("thanos_rs query", "--query.default-evaluation-interval must be positive")
    for addr in args.strict_endpoints:
        if is_dynamic(addr):
            fail("thanos_rs query", f"{addr} is a dynamically specified endpoint i.e. it uses SD and that is "
                 "not permitted under strict mode. Use --endpoint for this")
    for pattern in args.store_sd_files:
        try:
            check_pattern(pattern)
        except FileSDError as err:
            fail("thanos_rs query", str(err))
    if args.store_sd_dns_interval <= 0 or args.store_sd_interval <= 0:
        fail("thanos_rs query", "--store.sd-dns-interval and --store.sd-interval must be positive")
    if not args.endpoints and not args.strict_endpoints and not args.store_sd_files:
        log.warning("no --endpoint, --store or --store.sd-files given: queries will find no data")
    return lifecycle.run(lambda stop: serve(args, stop))


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    registry = CollectorRegistry()
    prober = lifecycle.Prober()
    status = Gauge("thanos_status", "Represents status (0 indicates failure, 1 indicates success) of the component.",
                   ["check", "component"], registry=registry)
    tls = ClientTLS(
        secure=args.grpc_client_tls_secure, cert=args.grpc_client_tls_cert, key=args.grpc_client_tls_key,
        ca=args.grpc_client_tls_ca, server_name=args.grpc_client_server_name,
    )
    static = [a for a in args.endpoints if not is_dynamic(a)]
    endpoints = EndpointSet(static, args.strict_endpoints, channels=ChannelFactory(tls))
    discovery = Discovery(
        endpoints, args.endpoints,
        FileSD(args.store_sd_files, args.store_sd_interval) if args.store_sd_files else None,
        Provider(timeout=args.store_sd_dns_interval), args.store_sd_dns_interval,
    )
    options = QueryOptions(
        replica_labels=tuple(args.query_replica_labels),
        timeout=args.query_timeout,
        lookback_delta=args.query_lookback_delta,
        dynamic_lookback_delta=args.query_dynamic_lookback_delta,
        partial_response=args.query_partial_response,
        max_concurrent=args.query_max_concurrent,
        max_samples=args.query_max_samples,
        default_evaluation_interval=args.query_default_evaluation_interval,
        max_concurrent_select=args.query_max_concurrent_select,
        store_response_timeout=args.store_response_timeout,
        selector_labels=tuple(parse_selector_labels(args.selector_labels)),
    )
    querier = AsyncQuerier(endpoints, options)
    api = QueryAPI(
        querier,
        APIConfig(
            default_step=args.query_default_step,
            auto_downsampling=args.query_auto_downsampling,
            instant_max_source_resolution=args.query_instant_default_max_source_resolution,
            metadata_default_range=args.query_metadata_default_time_range,
            flags=flag_map(args.parser, args),
            cors=not args.web_disable_cors,
        ),
    )
    route_prefix = args.web_route_prefix or args.web_external_prefix
    routes = api.routes() + ui_routes(
        external_prefix=args.web_external_prefix or route_prefix, partial_response=args.query_partial_response
    )
    app = build_app(routes, prober, registry, route_prefix=route_prefix, api_title="thanos_rs query")
    http = HTTPServer(app, args.http_address, lifecycle.grace(args.http_grace_period))
    grpc_server = GRPCServer(
        args.grpc_address, prober,
        ServerTLS(args.grpc_server_tls_cert, args.grpc_server_tls_key, args.grpc_server_tls_client_ca),
        lifecycle.grace(args.grpc_grace_period),
    )
    grpc_server.add_store_api(QueryStoreServer(querier))
    for service, methods in ProxyAPIs(querier).services().items():
        grpc_server.add_service(service, methods)

    try:
        await grpc_server.start()
        await http.start()
    except OSError:
        await grpc_server.stop()
        raise
    log.info("listening for requests and metrics address=%s", args.http_address)
    status.labels("healthy", "query").set(1)
    await discovery.refresh(reread_files=True)
    discovering = asyncio.create_task(discovery.run(stop))
    polling = asyncio.create_task(endpoints.run(stop))
    await endpoints.wait_first_update()
    prober.set_ready()
    status.labels("ready", "query").set(1)
    log.info("changing probe status status=ready")
    await stop.wait()

    prober.set_not_ready("stopping")
    await asyncio.gather(http.stop(), grpc_server.stop())
    await asyncio.gather(polling, discovering)
    querier.close()
    await endpoints.close()
    log.info("exiting")
    return 0
