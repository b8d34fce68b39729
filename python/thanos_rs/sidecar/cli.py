"""``thanos_rs sidecar``: flags as in ``thanos sidecar`` (Thanos v0.26, plus the
main-branch flags that matter without object storage)."""

from __future__ import annotations

import argparse

from thanos_rs import flags


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "sidecar",
        help="Sidecar for Prometheus server.",
        description="Sidecar for Prometheus server: serves its data over the Thanos StoreAPI "
        "and reloads its configuration.",
    )
    flags.add_log_flags(p)
    flags.add_server_flags(p)
    p.add_argument(
        "--prometheus.url", dest="prometheus_url", default="http://localhost:9090",
        help="URL at which to reach Prometheus's API. For better performance use local network.",
    )
    p.add_argument(
        "--prometheus.ready_timeout", dest="prometheus_ready_timeout", type=flags.duration, default=600.0,
        help="Maximum time to wait for the Prometheus instance to start up. Only used by object storage "
        "uploads, which thanos_rs does not implement: without them the sidecar waits for Prometheus for "
        "as long as it takes, as Thanos does.",
    )
    p.add_argument(
        "--prometheus.get_config_interval", dest="prometheus_get_config_interval",
        type=flags.duration, default=30.0,
        help="How often to get Prometheus config (external labels, heartbeat).",
    )
    p.add_argument(
        "--prometheus.get_config_timeout", dest="prometheus_get_config_timeout",
        type=flags.duration, default=5.0,
        help="Timeout for getting Prometheus config.",
    )
    p.add_argument(
        "--tsdb.path", dest="tsdb_path", default=None,
        help="Data directory of TSDB: Prometheus's --storage.tsdb.path. When given, Series, LabelNames "
        "and LabelValues are read from it directly, persisted blocks and the head, instead of through "
        "Prometheus's remote-read API; if it cannot be read, remote read is used and the log says why. "
        "Thanos's default is ./data; here the directory is read only when this flag is given.",
    )
    p.add_argument(
        "--reloader.config-file", dest="reloader_config_file", default="",
        help="Config file watched by the reloader.",
    )
    p.add_argument(
        "--reloader.config-envsubst-file", dest="reloader_config_envsubst_file", default="",
        help="Output file for environment variable substituted config file.",
    )
    p.add_argument(
        "--reloader.rule-dir", dest="reloader_rule_dirs", action="append", default=[],
        help="Rule directories for the reloader to refresh (repeated field).",
    )
    p.add_argument(
        "--reloader.watch-interval", dest="reloader_watch_interval", type=flags.duration, default=180.0,
        help="Controls how often reloader re-reads config and rules.",
    )
    p.add_argument(
        "--reloader.retry-interval", dest="reloader_retry_interval", type=flags.duration, default=5.0,
        help="Controls how often reloader retries config reload in case of error.",
    )
    p.add_argument(
        "--min-time", dest="min_time", type=flags.time_or_duration,
        default=flags.time_or_duration("0000-01-01T00:00:00Z"),
        help="Start of time range limit to serve. Thanos sidecar will serve only metrics, which "
        "happened later than this value. Option can be a constant time in RFC3339 format or time "
        "duration relative to current time, such as -1d or 2h45m. Valid duration units are ms, s, "
        "m, h, d, w, y.",
    )
    flags.add_unsupported(
        p, "object storage uploads are not implemented",
        "--objstore.config", "--objstore.config-file", "--shipper.upload-compacted",
        "--shipper.upload-concurrency", "--hash-func",
    )
    flags.add_unsupported(
        p, "Prometheus is reached without client configuration",
        "--prometheus.http-client", "--prometheus.http-client-file",
    )
    flags.add_unsupported(p, "only the HTTP reload method is implemented", "--reloader.method")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from thanos_rs.sidecar.app import run as run_sidecar

    return run_sidecar(args)
