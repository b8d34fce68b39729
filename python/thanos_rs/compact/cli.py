"""``thanos_rs compact``: flags as in ``thanos compact`` (Thanos v0.26)."""

from __future__ import annotations

import argparse

from thanos_rs import flags
from thanos_rs.compact.planner import MAX_COMPACTION_LEVEL
from thanos_rs.objstore.flags import add_objstore_flags


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "compact",
        help="Continuously compacts blocks in an object store bucket.",
        description="Continuously compacts blocks in an object store bucket: merges the blocks of each "
        "source into larger ones, deduplicates replicas offline, applies retention.",
    )
    flags.add_log_flags(p)
    flags.add_http_flags(p)
    add_objstore_flags(p)
    p.add_argument(
        "--data-dir", dest="data_dir", default="./data",
        help="Data directory in which to cache blocks and process compactions.",
    )
    p.add_argument(
        "--consistency-delay", dest="consistency_delay", type=flags.duration, default=1800.0,
        help="Minimum age of fresh (non-compacted) blocks before they are being processed. Malformed blocks older "
        "than the maximum of consistency-delay and 48h0m0s will be removed.",
    )
    for res, name in (("raw", "raw"), ("5m", "resolution 1 (5 minutes)"), ("1h", "resolution 2 (1 hour)")):
        p.add_argument(
            f"--retention.resolution-{res}", dest=f"retention_{res}", type=flags.duration, default=0.0,
            help=f"How long to retain {name} samples in bucket. Setting this to 0d will retain samples of this "
            "resolution forever",
        )
    p.add_argument(
        "-w", "--wait", dest="wait", action=argparse.BooleanOptionalAction, default=False,
        help="Do not exit after all compactions have been processed and wait for new work.",
    )
    p.add_argument(
        "--wait-interval", dest="wait_interval", type=flags.duration, default=300.0,
        help="Wait interval between consecutive compaction runs and bucket refreshes. Only works when --wait flag "
        "specified.",
    )
    p.add_argument(
        "--downsampling.disable", dest="downsampling_disable", action=argparse.BooleanOptionalAction, default=False,
        help="Disables downsampling. This is not recommended as querying long time ranges without non-downsampled "
        "data is not efficient and useful e.g it is not possible to render all samples for a human eye anyway",
    )
    p.add_argument(
        "--block-sync-concurrency", dest="block_sync_concurrency", type=int, default=20,
        help="Number of goroutines to use when syncing block metadata from object storage.",
    )
    p.add_argument(
        "--block-meta-fetch-concurrency", dest="block_meta_fetch_concurrency", type=int, default=32,
        help="Number of goroutines to use when fetching block metadata from object storage.",
    )
    p.add_argument(
        "--compact.cleanup-interval", dest="compact_cleanup_interval", type=flags.duration, default=300.0,
        help="How often we should clean up partially uploaded blocks and blocks with deletion mark in the "
        "background when --wait has been enabled. Setting it to \"0s\" disables it - the cleaning will only happen "
        "at the end of an iteration.",
    )
    p.add_argument(
        "--compact.concurrency", dest="compact_concurrency", type=int, default=1,
        help="Number of goroutines to use when compacting groups.",
    )
    p.add_argument(
        "--downsample.concurrency", dest="downsample_concurrency", type=int, default=1,
        help="Number of goroutines to use when downsampling blocks.",
    )
    p.add_argument(
        "--delete-delay", dest="delete_delay", type=flags.duration, default=48 * 3600.0,
        help="Time before a block marked for deletion is deleted from bucket. If delete-delay is non zero, blocks "
        "will be marked for deletion and compactor component will delete blocks marked for deletion from the "
        "bucket. If delete-delay is 0, blocks will be deleted straight away.",
    )
    p.add_argument(
        "--compact.enable-vertical-compaction", dest="compact_enable_vertical_compaction",
        action=argparse.BooleanOptionalAction, default=False,
        help="Experimental. When set to true, compactor will allow overlaps and perform **irreversible** vertical "
        "compaction.",
    )
    p.add_argument(
        "--deduplication.func", dest="deduplication_func", choices=("", "penalty"), default="",
        help="Experimental. Deduplication algorithm for merging overlapping blocks. Possible values are: \"\", "
        "\"penalty\". If no value is specified, the default compact deduplication merger is used, which performs "
        "1:1 deduplication for samples.",
    )
    p.add_argument(
        "--deduplication.replica-label", dest="deduplication_replica_label", action="append", default=[],
        help="Label to treat as a replica indicator of blocks that can be deduplicated (repeated flag). This will "
        "merge multiple replica blocks into one. This process is irreversible.",
    )
    p.add_argument(
        "--hash-func", dest="hash_func", choices=("", "SHA256"), default="",
        help="Specify which hash function to use when calculating the hashes of produced files. If no function has "
        "been specified, it does not happen. Possible values are: \"\", \"SHA256\".",
    )
    flags.add_time_range_flags(p, "Thanos Compactor", "compact", "blocks")
    # Hidden flags of Thanos, with its defaults.
    p.add_argument("--debug.halt-on-error", dest="debug_halt_on_error", action=argparse.BooleanOptionalAction,
                   default=True, help=argparse.SUPPRESS)
    p.add_argument("--debug.max-compaction-level", dest="debug_max_compaction_level", type=_level,
                   default=MAX_COMPACTION_LEVEL, help=argparse.SUPPRESS)
    flags.add_unsupported(
        p, "the compactor's block viewer UI is not implemented",
        "--block-viewer.global.sync-block-interval", "--block-viewer.global.sync-block-timeout", "--bucket-web-label",
        "--web.route-prefix", "--web.external-prefix", "--web.prefix-header", "--web.disable-cors",
    )
    flags.add_unsupported(
        p, "not implemented in thanos_rs's compactor",
        "--selector.relabel-config", "--selector.relabel-config-file", "--compact.progress-interval",
        "--compact.block-max-index-size", "--compact.skip-block-with-out-of-order-chunks",
        "--debug.accept-malformed-index",
    )
    p.set_defaults(run=run)


def _level(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_COMPACTION_LEVEL:
        raise argparse.ArgumentTypeError(f"level is bigger then default set of {MAX_COMPACTION_LEVEL + 1}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from thanos_rs.compact.app import run as run_compact

    return run_compact(args)
