"""The compactor (``thanos_rs compact``) as a process over a directory
bucket of promtool's 2 h blocks, uploaded as a sidecar would: compaction
keeps every sample (a store gateway over the result answers as one over the
sources), replicas merge into one set of blocks, overlaps it may not merge
halt it, retention and the delete delay remove what they should, and a run
cut short leaves a bucket that answers the same and that the next run
finishes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from support.components import compact_once, compactor, store_gateway
from support.objstore import filesystem_config, upload_block
from support.storeapi import wait_until
from support.storeclient import RE, StoreClient, by_bits
from support.tsdb import blocks
from thanos_rs.block import ulid as ulids
from thanos_rs.block.markers import DELETION_MARK_FILENAME, read_deletion_mark
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.block import fetch

pytestmark = pytest.mark.prometheus

LABELS = {"cluster": "eu1", "replica": "0"}
EVERYTHING = [(RE, "__name__", ".+")]
#: No wait for fresh blocks (promtool made these seconds ago), no downsampling.
FLAGS = ("--consistency-delay=0s", "--downsampling.disable")


def run_once(workdir: Path, config: str, *flags: str) -> tuple[int, str]:
    return compact_once(workdir, config, *FLAGS, *flags)


def copy_block(block: Path, to: Path) -> Path:
    """The block under a new ULID: another replica's block of the same data."""
    new = ulids.new()
    shutil.copytree(block, to / new)
    meta = json.loads((to / new / "meta.json").read_text())
    meta["ulid"] = new
    meta["compaction"]["sources"] = [new]
    (to / new / "meta.json").write_text(json.dumps(meta))
    return to / new


def answer(workdir: Path, config: str) -> dict:
    """Every sample a store gateway over the bucket serves (values as bits: NaN equals NaN)."""
    with store_gateway(workdir, config, "--sync-block-duration=1s", cache=f"cache-{time.monotonic_ns()}") as g:
        client = StoreClient(g.grpc_address)
        try:
            return by_bits(client.samples(EVERYTHING))
        finally:
            client.close()


def live(bucket: Bucket) -> dict:
    """The complete blocks not marked for deletion."""
    found = fetch(bucket)
    return {u: m for u, m in found.metas.items() if u not in found.marked_for_deletion}


@pytest.fixture
def bucket_dir(tmp_path, tsdb) -> tuple[str, Bucket, list[str]]:
    config = filesystem_config(tmp_path / "bucket")
    bucket = Bucket.from_config(config)
    ids = [upload_block(bucket, b, LABELS) for b in blocks(tsdb)]
    return config, bucket, ids


def test_compaction_keeps_every_sample_and_marks_its_sources(tmp_path, bucket_dir):
    config, bucket, sources = bucket_dir
    before = answer(tmp_path, config)
    code, logs = run_once(tmp_path, config)
    assert code == 0, logs
    after = live(bucket)
    # Fewer, larger blocks, without overlaps, that hold every source once.
    assert len(after) < len(sources)
    spans = sorted((m.min_time, m.max_time) for m in after.values())
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    held = sorted(s for m in after.values() for s in m.sources)
    assert held == sorted(sources)
    compacted = [m for m in after.values() if m.source == "compactor"]
    assert compacted and all(m.labels == LABELS and m.compaction_level > 1 for m in compacted)
    for m in compacted:
        assert not bucket.exists(f"{m.ulid}/tombstones")
        assert set(m.files) == {"index", "meta.json"} | {f"chunks/{f}" for f in m.segment_files}
    # Each merged source carries Thanos's mark, written as Go writes it.
    merged = {s for m in compacted for s in m.sources}
    for u in merged:
        mark = read_deletion_mark(bucket, u)
        assert mark is not None and mark.id == u and mark.details == "source of compacted block"
        assert abs(mark.deletion_time - time.time()) < 600
        assert bucket.get(f"{u}/{DELETION_MARK_FILENAME}").startswith(b'{"id":"%s","version":1,' % u.encode())
    assert answer(tmp_path, config) == before
    # Nothing more to do: a second run changes nothing.
    code, logs = run_once(tmp_path, config)
    assert code == 0 and live(bucket).keys() == after.keys(), logs


def test_replicas_merge_into_one_set_of_blocks(tmp_path, tsdb):
    config = filesystem_config(tmp_path / "bucket")
    bucket = Bucket.from_config(config)
    for b in blocks(tsdb):
        upload_block(bucket, b, LABELS)
        upload_block(bucket, copy_block(b, tmp_path), LABELS | {"replica": "1"})
    one_replica = filesystem_config(tmp_path / "one")
    for b in blocks(tsdb):
        upload_block(Bucket.from_config(one_replica), b, {"cluster": "eu1"})
    want = answer(tmp_path, one_replica)

    code, logs = run_once(tmp_path, config, "--deduplication.replica-label=replica")
    assert code == 0, logs
    after = live(bucket)
    assert after and all(m.labels == {"cluster": "eu1"} for m in after.values())
    spans = sorted((m.min_time, m.max_time) for m in after.values())
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    # One sample per timestamp: the replica pair's data once.
    assert answer(tmp_path, config) == want


def test_overlapping_blocks_it_may_not_merge_halt_it(tmp_path, tsdb):
    config = filesystem_config(tmp_path / "bucket")
    bucket = Bucket.from_config(config)
    first = blocks(tsdb)[0]
    ids = {upload_block(bucket, first, LABELS), upload_block(bucket, copy_block(first, tmp_path), LABELS)}
    code, logs = run_once(tmp_path, config)
    assert code == 1
    assert "pre compaction overlap check: overlaps found while gathering blocks." in logs
    assert "[mint: " in logs and all(f"<ulid: {u}" in logs for u in ids)
    assert live(bucket).keys() == ids
    # With --wait it stays up, halted, for someone to look.
    c = compactor(tmp_path, config, *FLAGS, "--wait", "--wait-interval=1s").start()
    try:
        wait_until(lambda: c.metric("thanos_compact_halted") == 1)
        assert "critical error detected; halting" in c.logs()
        assert c.proc.poll() is None
    finally:
        assert c.stop() == 0
    assert live(bucket).keys() == ids


def test_retention_and_the_delete_delay_remove_only_what_they_should(tmp_path, bucket_dir):
    config, bucket, ids = bucket_dir
    metas = fetch(bucket).metas
    # Halfway through a block in the middle, so the seconds a run takes do not matter.
    ends = sorted(m.max_time for m in metas.values())
    cut_ms = ends[len(ends) // 2] - 3_600_000
    expired = {u for u, m in metas.items() if m.max_time < cut_ms}
    assert 0 < len(expired) < len(metas)
    # A partial upload three days old is abandoned; one from now is not.
    old, fresh = ulids.new(int((time.time() - 3 * 86400) * 1000)), ulids.new()
    for u in (old, fresh):
        bucket.upload(f"{u}/index", b"half")
    retention = f"{int(time.time() - cut_ms / 1000)}s"
    # Level 0: no compaction, so that retention sees the blocks as uploaded.
    code, logs = run_once(tmp_path, config, f"--retention.resolution-raw={retention}",
                          "--debug.max-compaction-level=0")
    assert code == 0, logs
    found = fetch(bucket)
    assert set(found.marked_for_deletion) == expired
    assert all(m.details.startswith("block exceeding retention of ") for m in found.marked_for_deletion.values())
    # Partial uploads wait two days; the old one is gone, its files too.
    assert set(found.partial) == {fresh} and not bucket.iter(f"{old}/")
    # Marked blocks wait --delete-delay (48 h by default): still there.
    assert set(found.metas) == set(ids)
    code, logs = run_once(tmp_path, config, "--delete-delay=0s", "--debug.max-compaction-level=0")
    assert code == 0, logs
    found = fetch(bucket)
    assert set(found.metas) == set(ids) - expired and not found.marked_for_deletion
    assert not any(bucket.iter(f"{u}/") for u in expired)
    assert set(found.partial) == {fresh}


def test_a_run_cut_short_leaves_the_same_answers_and_the_next_run_finishes(tmp_path, bucket_dir):
    config, bucket, sources = bucket_dir
    before = answer(tmp_path, config)
    code, logs = run_once(tmp_path, config)
    assert code == 0, logs
    compacted = {u: m for u, m in live(bucket).items() if m.source == "compactor"}
    # Cut short after its uploads, before its marks: every source is still live.
    for s in sources:
        if bucket.exists(f"{s}/{DELETION_MARK_FILENAME}"):
            bucket.delete(f"{s}/{DELETION_MARK_FILENAME}")
    # And one more block cut short mid-upload: its meta.json never arrived.
    victim = next(iter(compacted))
    bucket.delete(f"{victim}/meta.json")
    assert answer(tmp_path, config) == before
    code, logs = run_once(tmp_path, config)
    assert code == 0, logs
    after = live(bucket)
    held = sorted(s for m in after.values() for s in m.sources)
    assert held == sorted(sources)
    assert answer(tmp_path, config) == before
