"""``thanos_rs query``: flags as in ``thanos query`` (Thanos v0.26; ``--store`` and
``--endpoint`` are both accepted, as the tutorial uses the former and current
Thanos only the latter)."""

from __future__ import annotations

import argparse

from thanos_rs import flags

#: Thanos v0.26's experimental PromQL features that the engine always has, as
#: Prometheus 2.42's does once enabled.
ALWAYS_ON_FEATURES = ("promql-negative-offset", "promql-at-modifier")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "query",
        help="Query node exposing PromQL enabled Query API with data retrieved from multiple store nodes.",
        description="Query node exposing PromQL enabled Query API with data retrieved from multiple "
        "store nodes, with HA replica deduplication.",
    )
    flags.add_log_flags(p)
    flags.add_server_flags(p)
    for name, help_text in (
        ("--grpc-client-tls-cert", "TLS Certificates to use to identify this client to the server."),
        ("--grpc-client-tls-key", "TLS Key for the client's certificate."),
        ("--grpc-client-tls-ca", "TLS CA Certificates to use to verify gRPC servers."),
        ("--grpc-client-server-name", "Server name to verify the hostname on the returned gRPC certificates."),
    ):
        p.add_argument(name, dest=name[2:].replace("-", "_"), default="", help=help_text)
    p.add_argument(
        "--grpc-client-tls-secure", dest="grpc_client_tls_secure", action=argparse.BooleanOptionalAction,
        default=False, help="Use TLS when talking to the gRPC server.",
    )
    p.add_argument(
        "--grpc-client-tls-skip-verify", dest="grpc_client_tls_skip_verify",
        action=argparse.BooleanOptionalAction, default=False,
        help="Disable TLS certificate verification, i.e. self signed, signed by fake CA.",
    )
    p.add_argument(
        "--web.route-prefix", dest="web_route_prefix", default="",
        help="Prefix for API and UI endpoints. Defaults to --web.external-prefix.",
    )
    p.add_argument(
        "--web.external-prefix", dest="web_external_prefix", default="",
        help="Static prefix for all HTML links and redirect URLs in the UI query web interface.",
    )
    p.add_argument(
        "--web.disable-cors", dest="web_disable_cors", action=argparse.BooleanOptionalAction,
        default=False, help="Whether to disable CORS headers to be set by Thanos.",
    )
    p.add_argument(
        "--query.timeout", dest="query_timeout", type=flags.duration, default=120.0,
        help="Maximum time to process query by query node.",
    )
    p.add_argument(
        "--query.max-concurrent", dest="query_max_concurrent", type=int, default=20,
        help="Maximum number of queries processed concurrently by query node.",
    )
    p.add_argument(
        "--query.max-samples", dest="query_max_samples", type=int, default=50_000_000,
        help="Maximum number of samples a single query can load into memory, as Prometheus's flag of the "
        "same name (Thanos has none). A query over the limit fails with 422 execution.",
    )
    p.add_argument(
        "--query.max-concurrent-select", dest="query_max_concurrent_select", type=int, default=4,
        help="Maximum number of select requests made concurrently per a query.",
    )
    p.add_argument(
        "--query.lookback-delta", dest="query_lookback_delta", type=flags.duration, default=300.0,
        help="The maximum lookback duration for retrieving metrics during expression evaluations.",
    )
    p.add_argument(
        "--query.replica-label", dest="query_replica_labels", action="append", default=[],
        help="Labels to treat as a replica indicator along which data is deduplicated. "
        "Still you will be able to query without deduplication using 'dedup=false' parameter.",
    )
    p.add_argument(
        "--query.partial-response", dest="query_partial_response", action=argparse.BooleanOptionalAction,
        default=True, help="Enable partial response for queries if no partial_response param is specified.",
    )
    p.add_argument(
        "--query.default-step", dest="query_default_step", type=flags.duration, default=1.0,
        help="Set default step for range queries. Default step is only used when step is not set in UI.",
    )
    p.add_argument(
        "--query.default-evaluation-interval", dest="query_default_evaluation_interval",
        type=flags.duration, default=60.0, help="Set default evaluation interval for sub queries.",
    )
    p.add_argument(
        "--query.metadata.default-time-range", dest="query_metadata_default_time_range",
        type=flags.duration, default=0.0,
        help="The default metadata time range duration for retrieving labels through Labels and "
        "Series API when the range parameters are not specified. 0 means all time.",
    )
    p.add_argument(
        "--selector-label", dest="selector_labels", action="append", default=[],
        help='Query selector labels that will be exposed in info endpoint (repeated), as name="value".',
    )
    for name in ("--endpoint", "--store"):
        p.add_argument(
            name, dest="endpoints", action="append", default=[],
            help="Addresses of statically configured Thanos API servers (repeatable). The scheme may be "
            "prefixed with 'dns+' or 'dnssrv+' to detect Thanos API servers through respective DNS lookups."
            + (" Deprecated alias of --endpoint." if name == "--store" else ""),
        )
    for name in ("--endpoint-strict", "--store-strict"):
        p.add_argument(
            name, dest="strict_endpoints", action="append", default=[],
            help="Addresses of only statically configured Thanos API servers that are always used, "
            "even if the health check fails. Useful if you have a caching layer on top.",
        )
    p.add_argument(
        "--store.sd-files", dest="store_sd_files", action="append", default=[], metavar="<path>",
        help="Path to files that contain addresses of store API servers. The path can be a glob pattern "
        "(repeatable).",
    )
    for name, default, help_text in (
        ("--store.sd-interval", 300.0, "Refresh interval to re-read file SD files. It is used as a resync fallback."),
        ("--store.sd-dns-interval", 30.0, "Interval between DNS resolutions."),
    ):
        p.add_argument(name, dest=name[2:].replace(".", "_").replace("-", "_"), type=flags.duration,
                       default=default, help=help_text)
    # Hidden in Thanos; both resolvers are the system's here.
    p.add_argument(
        "--store.sd-dns-resolver", dest="store_sd_dns_resolver", choices=("golang", "miekgdns"),
        default="miekgdns", help=argparse.SUPPRESS,
    )
    p.add_argument(
        "--store.unhealthy-timeout", dest="store_unhealthy_timeout", type=flags.duration, default=300.0,
        help="Accepted for compatibility, without effect: Thanos cleans an unhealthy store from the "
        "store UI page after this long and stops counting it; thanos_rs keeps a configured store that "
        "is down on the page, and warns of it in the queries it would answer, until it is back.",
    )
    p.add_argument(
        "--store.response-timeout", dest="store_response_timeout", type=flags.duration, default=0.0,
        help="If a Store doesn't send any data in this specified duration then a Store will be "
        "ignored and partial data will be returned if it's enabled. 0 disables timeout.",
    )
    p.add_argument(
        "--alert.query-url", dest="alert_query_url", default="",
        help="The external Thanos Query URL that would be set in all alerts 'Source' field.",
    )
    flags.add_unsupported(
        p, "endpoints come from --store/--endpoint (with dns+/dnssrv+) and --store.sd-files only",
        "--endpoint.sd-config", "--endpoint.sd-config-file",
    )
    p.add_argument(
        "--query.auto-downsampling", dest="query_auto_downsampling", action=argparse.BooleanOptionalAction,
        default=False, help="Enable automatic adjustment (step / 5) to what source of data should be used in "
        "store gateways if no max_source_resolution param is specified.",
    )
    # Hidden in Thanos, as both of these.
    p.add_argument(
        "--query.instant.default.max_source_resolution", dest="query_instant_default_max_source_resolution",
        type=flags.duration, default=0.0, help=argparse.SUPPRESS,
    )
    p.add_argument(
        "--query.dynamic-lookback-delta", dest="query_dynamic_lookback_delta", action=argparse.BooleanOptionalAction,
        default=True, help=argparse.SUPPRESS,
    )
    p.add_argument(
        "--enable-feature", dest="enable_feature", action="append", default=[],
        type=flags.features(ALWAYS_ON_FEATURES, ("query-pushdown",)),
        help="Comma separated experimental feature names to enable. thanos_rs always has "
        f"{' and '.join(ALWAYS_ON_FEATURES)}, so naming them changes nothing; query-pushdown is not implemented.",
    )
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from thanos_rs.query.app import run as run_query

    return run_query(args)
