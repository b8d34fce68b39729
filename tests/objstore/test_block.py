"""thanos_rs.objstore.block: block metas in a bucket, partial uploads and deletion marks."""

from __future__ import annotations

import json

import pytest

from thanos_rs.errors import CorruptBlockError, ObjectNotFoundError
from thanos_rs.block.metadata import Meta
from thanos_rs.objstore.block import block_ids, fetch, read_meta

A, B, C, D = "01HAAAAAAAAAAAAAAAAAAAAAAA", "01HBBBBBBBBBBBBBBBBBBBBBBB", "01HCCCCCCCCCCCCCCCCCCCCCCC", \
    "01HDDDDDDDDDDDDDDDDDDDDDDD"


def meta_json(ulid: str, thanos: dict | None = None) -> bytes:
    doc: dict = {
        "ulid": ulid, "minTime": 1_700_000_000_000, "maxTime": 1_700_007_200_000,
        "stats": {"numSamples": 1440, "numSeries": 3, "numChunks": 12},
        "compaction": {"level": 1, "sources": [ulid]}, "version": 1,
    }
    if thanos is not None:
        doc["thanos"] = thanos
    return json.dumps(doc).encode()


THANOS = {"labels": {"cluster": "eu1", "replica": "a"}, "downsample": {"resolution": 0}, "source": "sidecar",
          "segment_files": ["000001"], "files": [{"rel_path": "chunks/000001", "size_bytes": 2048},
                                                 {"rel_path": "index", "size_bytes": 512}, {"rel_path": "meta.json"}]}


def test_meta_reads_both_sections():
    m = Meta.parse(f"{A}/meta.json", meta_json(A, THANOS))
    assert (m.ulid, m.min_time, m.max_time) == (A, 1_700_000_000_000, 1_700_007_200_000)
    assert (m.num_series, m.num_samples, m.num_chunks, m.compaction_level, m.compaction_failed) == (3, 1440, 12, 1,
                                                                                                     False)
    assert m.labels == {"cluster": "eu1", "replica": "a"}
    assert (m.resolution, m.source, m.segment_files) == (0, "sidecar", ["000001"])
    assert m.files == {"chunks/000001": 2048, "index": 512, "meta.json": 0}
    assert m.raw["thanos"] == THANOS


def test_meta_without_thanos_section_has_thanos_defaults():
    m = Meta.parse("m", meta_json(A))
    assert (m.labels, m.resolution, m.source, m.files) == ({}, 0, "", {})


def test_corrupt_metas_name_the_object():
    with pytest.raises(CorruptBlockError, match=f"{A}/meta.json: parse"):
        Meta.parse(f"{A}/meta.json", b"{not json")
    with pytest.raises(CorruptBlockError, match="unsupported meta.json version 2"):
        Meta.parse("m", meta_json(A).replace(b'"version": 1', b'"version": 2'))


def test_fetch_sorts_blocks_into_complete_partial_and_deleted(tmp_path):
    from thanos_rs.objstore import Bucket

    bucket = Bucket.from_config(f"type: FILESYSTEM\nconfig:\n  directory: {tmp_path}\n")
    for ulid in (A, B, C):
        bucket.upload(f"{ulid}/index", b"i")
    bucket.upload(f"{A}/meta.json", meta_json(A, THANOS))
    bucket.upload(f"{B}/meta.json", meta_json(B, THANOS))
    bucket.upload(f"{B}/deletion-mark.json", json.dumps({"id": B, "deletion_time": 1, "version": 1}).encode())
    # C: no meta.json, a partial upload. D: meta.json of another block.
    bucket.upload(f"{D}/meta.json", meta_json(A))
    bucket.upload("debug/notes.txt", b"not a block")
    assert block_ids(bucket) == [A, B, C, D]
    blocks = fetch(bucket)
    assert sorted(blocks.metas) == [A, B]
    assert set(blocks.marked_for_deletion) == {B}
    assert blocks.partial[C] == "no meta.json"
    assert "does not match its directory" in blocks.partial[D]
    with pytest.raises(ObjectNotFoundError):
        read_meta(bucket, C)
