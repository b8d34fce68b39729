"""The sidecar's uploads to object storage (the ``uploads`` part of
``cmd/thanos/sidecar.go``): the check that Prometheus does not compact its
own blocks, and the shipper run beside the StoreAPI."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from thanos_rs import flags
from thanos_rs.errors import PrometheusError, ShipperError
from thanos_rs.sidecar.prometheus import PrometheusClient

log = logging.getLogger("sidecar")

#: The block length Thanos recommends: two hours, Prometheus's default.
RECOMMENDED_BLOCK = 2 * 3600.0
#: How often the flags are asked for until Prometheus answers (Thanos's 2 s).
FLAGS_RETRY = 2.0


async def validate_prometheus(client: PrometheusClient, ignore_unequal_block_size: bool,
                              stop: asyncio.Event, timeout: float) -> bool:
    """``validatePrometheus``: a Prometheus that compacts its blocks
    (``--storage.tsdb.min-block-duration`` below the max) would merge blocks
    the shipper has not uploaded yet into one it never uploads, so uploads
    need both equal, unless ``--shipper.ignore-unequal-block-size``. Raises
    ShipperError when refused; False when stopped before Prometheus answered."""
    prom_flags = await _flags_until_answered(client, stop, timeout)
    if prom_flags is None:
        return False
    min_block = prom_flags.get("storage.tsdb.min-block-duration", "2h")
    max_block = prom_flags.get("storage.tsdb.max-block-duration", "2h")
    if flags.duration(min_block) != flags.duration(max_block):
        if not ignore_unequal_block_size:
            raise ShipperError(
                f"found that TSDB Max time is {max_block} and Min time is {min_block}. Compaction needs to be "
                "disabled (storage.tsdb.min-block-duration = storage.tsdb.max-block-duration)"
            )
        log.warning("flag to ignore Prometheus min/max block duration flags differing is being used. If the "
                    "upload of a 2h block fails and a Prometheus compaction happens that block may be missing "
                    "from your Thanos bucket storage.")
    if flags.duration(min_block) != RECOMMENDED_BLOCK:
        log.warning("found that TSDB block time is not 2h. Only 2h block time is recommended. block-time=%s",
                    min_block)
    return True


async def _flags_until_answered(client: PrometheusClient, stop: asyncio.Event,
                                timeout: float) -> dict[str, str] | None:
    """Prometheus's flags, asked every ``FLAGS_RETRY`` seconds until it
    answers (it may start after the sidecar); None once ``stop`` is set."""
    while not stop.is_set():
        try:
            return await client.flags(timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError, PrometheusError, KeyError, ValueError) as e:
            log.warning("failed to get Prometheus flags. Is Prometheus running? Retrying err=%s", e)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), FLAGS_RETRY)
    return None
