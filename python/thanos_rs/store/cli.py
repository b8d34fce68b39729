"""``thanos_rs store``: flags as in ``thanos store`` (Thanos v0.26)."""

from __future__ import annotations

import argparse

from thanos_rs import flags
from thanos_rs.objstore.flags import add_objstore_flags


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "store",
        help="Store node giving access to blocks in a bucket provider.",
        description="Store node giving access to blocks in a bucket provider: serves the blocks of an "
        "object storage bucket over the Thanos StoreAPI.",
    )
    flags.add_log_flags(p)
    flags.add_server_flags(p)
    add_objstore_flags(p)
    p.add_argument(
        "--data-dir", dest="data_dir", default="./data",
        help="Local data directory used for caching purposes (index-header, in-mem cache items and "
        "meta.jsons). If removed, no data will be lost, just store will have to rebuild the cache.",
    )
    p.add_argument(
        "--sync-block-duration", dest="sync_block_duration", type=flags.duration, default=180.0,
        help="Repeat interval for syncing the blocks between local and remote view.",
    )
    p.add_argument(
        "--block-sync-concurrency", dest="block_sync_concurrency", type=int, default=20,
        help="Number of goroutines to use when constructing index-cache.json blocks from object storage. "
        "Must be equal or greater than 1.",
    )
    flags.add_time_range_flags(p, "Thanos Store", "serve", "metrics")
    p.add_argument(
        "--store.grpc.series-max-concurrency", dest="store_grpc_series_max_concurrency", type=int, default=20,
        help="Maximum number of concurrent Series calls.",
    )
    p.add_argument(
        "--index-cache-size", dest="index_cache_size", type=flags.byte_size, default="250MB",
        help="Maximum size of items held in the in-memory index cache.",
    )
    flags.add_unsupported(
        p, "only the in-memory index cache is implemented: size it with --index-cache-size",
        "--index-cache.config", "--index-cache.config-file",
    )
    p.add_argument(
        "--store.grpc.series-sample-limit", dest="store_grpc_series_sample_limit", type=int, default=0,
        help="Maximum amount of samples returned via a single Series call. The Series call fails if this limit is "
        "exceeded. 0 means no limit. NOTE: For efficiency the limit is internally implemented as 'chunks limit' "
        "considering each chunk contains 120 samples (it's the max number of samples each chunk can contain), so "
        "the actual number of samples might be lower, even though the maximum could be hit.",
    )
    p.add_argument(
        "--store.grpc.touched-series-limit", dest="store_grpc_touched_series_limit", type=int, default=0,
        help="Maximum amount of touched series returned via a single Series call. The Series call fails if this "
        "limit is exceeded. 0 means no limit.",
    )
    # A flag of later Thanos versions (v0.32+), with their default.
    p.add_argument(
        "--debug.series-batch-size", dest="debug_series_batch_size", type=_positive, default=10000,
        help="The batch size when fetching series from TSDB blocks. Setting the number too high can lead to slower "
        "retrieval, while setting it too low can lead to throttling caused by too many calls made to object storage.",
    )
    p.set_defaults(run=run)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from thanos_rs.store.app import run as run_store

    return run_store(args)
