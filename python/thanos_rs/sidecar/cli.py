"""``thanos_rs sidecar``: flags as in ``thanos sidecar`` (Thanos v0.26, plus the
main-branch flags that matter without object storage)."""

from __future__ import annotations

import argparse

from thanos_rs import flags
from thanos_rs.block import upload
from thanos_rs.objstore.flags import add_objstore_flags


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
        help="Maximum time to wait for the Prometheus instance to start up. With object storage uploads, "
        "the sidecar gives up (and exits) when Prometheus has no external labels by then; without them it "
        "waits for as long as it takes, as Thanos does.",
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
        "Thanos's default is ./data; here the directory is read only when this flag is given, and the "
        "shipper (with --objstore.config-file) uploads the blocks of ./data without it.",
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
    add_objstore_flags(p)
    p.add_argument(
        "--shipper.upload-compacted", dest="shipper_upload_compacted", action=argparse.BooleanOptionalAction,
        default=False,
        help="If true shipper will try to upload compacted blocks as well. Useful for migration purposes. "
        "Works only if compaction is disabled on Prometheus. Do it once and then disable the flag when done.",
    )
    p.add_argument(
        "--shipper.ignore-unequal-block-size", dest="shipper_ignore_unequal_block_size",
        action=argparse.BooleanOptionalAction, default=False,
        help="If true shipper will not require prometheus min and max block size flags to be set to the same "
        "value. Only use this if you want to keep long retention and compaction enabled on your Prometheus "
        "instance, as in the worst case it can result in ~2h data loss for your Thanos bucket storage.",
    )
    p.add_argument(
        "--shipper.allow-out-of-order-uploads", dest="shipper_allow_out_of_order_uploads",
        action=argparse.BooleanOptionalAction, default=False,
        help="If true, shipper will skip failed block uploads in the given iteration and retry later. This "
        "means that some newer blocks might be uploaded sooner than older blocks. This can trigger "
        "compaction without those blocks and as a result will create an overlap situation.",
    )
    p.add_argument(
        "--shipper.upload-concurrency", dest="shipper_upload_concurrency", type=int, default=0,
        help="Number of goroutines to use when uploading block files. 0 or 1 uploads them one by one.",
    )
    p.add_argument(
        "--hash-func", dest="hash_func", default="", choices=upload.HASH_FUNCS,
        help="Specify which hash function to use when calculating the hashes of produced files. If no function "
        'has been specified, it does not happen. Possible values are: "", "SHA256".',
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
