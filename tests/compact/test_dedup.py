"""Offline deduplication of an HA pair whose scrapes do not line up: with
``--deduplication.func=penalty`` the compacted blocks answer as the querier
deduplicating the two replicas online; the default one-to-one merge keeps
both replicas' samples, interleaved.

Each replica's data is one block here. Where a replica has several, each
overlapping pair is compacted on its own and the deduplication starts afresh
at each block's start (as in Thanos), which can pick the other replica's
first samples there than the querier, reading across blocks, does."""

from __future__ import annotations

import json

import pytest

from support import datasets
from support.components import compact_once, querier, store_gateway
from support.objstore import filesystem_config, upload_block
from support.prometheus import backfill
from support.storeapi import wait_until
from support.tsdb import blocks
from thanos_rs import _core
from thanos_rs.block import ulid as ulids
from thanos_rs.objstore import Bucket

pytestmark = pytest.mark.prometheus

#: Six hours from a 2 h boundary, so that promtool cuts three blocks a replica.
START = 1_700_006_400
HOURS = 6
QUERY = {"query": f"load[{HOURS + 1}h]", "time": START + HOURS * 3600 + 60}


def replica(offset_s: int, gap: range, bump: float) -> datasets.Dataset:
    """A gauge a minute from two targets, ``offset_s`` late, missing the
    minutes of ``gap``: each replica has a gap the other fills."""
    ds = datasets.Dataset(START, START + HOURS * 3600, 60)
    for instance in ("i1", "i2"):
        for m in range(HOURS * 60):
            if m not in gap:
                ds.add("load", {"job": "a", "instance": instance}, START + m * 60 + offset_s, m + bump, "gauge")
    return ds


def answer(workdir, config) -> list:
    """``QUERY`` through a querier deduplicating on ``replica`` over a store gateway."""
    workdir.mkdir()
    with store_gateway(workdir, config, "--sync-block-duration=1s", cache="cache-gw") as gw, \
            querier(workdir, [gw.grpc_address]) as q:
        wait_until(lambda: q.api("/api/v1/query", QUERY)["result"])
        return sorted(q.api("/api/v1/query", QUERY)["result"], key=lambda s: sorted(s["metric"].items()))


@pytest.mark.parametrize("func", ["penalty", ""])
def test_offline_dedup_answers_as_online_dedup(func, tmp_path, prometheus_binaries):
    config = filesystem_config(tmp_path / "bucket")
    bucket = Bucket.from_config(config)
    for name, (offset, gap, bump) in {"0": (0, range(30, 50), 0.0), "1": (20, range(80, 100), 0.5)}.items():
        data = tmp_path / f"data{name}"
        backfill(replica(offset, gap, bump).openmetrics(), data)
        one = json.loads(_core.compact_blocks(blocks(data), tmp_path, ulids.new()))["ulid"]
        upload_block(bucket, tmp_path / one, {"cluster": "eu1", "replica": name})
    online = answer(tmp_path / "before", config)
    assert len(online) == 2 and all("replica" not in s["metric"] for s in online)

    code, logs = compact_once(tmp_path, config, "--consistency-delay=0s", "--downsampling.disable",
                              "--deduplication.replica-label=replica", f"--deduplication.func={func}")
    assert code == 0, logs
    offline = answer(tmp_path / "after", config)
    if func == "penalty":
        assert offline == online
    else:
        # One sample per timestamp: both replicas' scrapes, 20 s apart.
        assert [len(s["values"]) for s in offline] == [2 * HOURS * 60 - 40] * 2
        assert [len(s["values"]) for s in online] != [len(s["values"]) for s in offline]
