"""The shipper over promtool's blocks and a bucket of each kind (a directory,
and S3 on moto's server): what goes up, in Thanos's layout, once; what stays
local; and failures that lose nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from support.prometheus import PrometheusServer
from support.tsdb import DATA, EXTERNAL
from thanos_rs.block import metadata
from thanos_rs.errors import ShipperError
from thanos_rs.objstore.block import is_ulid
from thanos_rs.shipper import Shipper
from thanos_rs.shipper import meta as shipper_meta

pytestmark = pytest.mark.prometheus


def shipper(bucket, data: Path, **kw) -> tuple[Shipper, CollectorRegistry]:
    registry = CollectorRegistry()
    return Shipper(bucket, data, lambda: dict(EXTERNAL), registry, **kw), registry


def blocks(data: Path) -> dict[str, metadata.Document]:
    return {p.name: metadata.Meta.read(p).raw for p in data.iterdir() if is_ulid(p.name)}


def uploaded(bucket, ulid: str) -> list[str]:
    """The names of a block's objects in the bucket, relative to the block."""
    return [name.removeprefix(f"{ulid}/") for name in bucket.iter(f"{ulid}/", recursive=True)]


def set_meta(block: Path, **changes) -> None:
    meta = metadata.Meta.read(block).raw
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            meta[section][field] = value
        else:
            meta[key] = value
    metadata.write(block, meta)


def test_every_block_goes_up_once_in_thanos_layout(data, bucket):
    local = blocks(data)
    assert len(local) > 3, "the backfill cuts a day into 2 h blocks"
    s, registry = shipper(bucket, data)
    assert s.sync() == len(local)
    assert registry.get_sample_value("thanos_shipper_uploads_total") == len(local)
    assert sorted(shipper_meta.read(data)) == sorted(local)
    for ulid, meta in local.items():
        segments = sorted(p.name for p in (data / ulid / "chunks").iterdir())
        files = [*(f"chunks/{n}" for n in segments), "index"]
        assert uploaded(bucket, ulid) == [*files, "meta.json"], "no tombstones, nothing else"
        for name in files:
            assert bucket.get(f"{ulid}/{name}") == (data / ulid / name).read_bytes(), name
        up = json.loads(bucket.get(f"{ulid}/meta.json"))
        thanos = up.pop("thanos")
        assert up == meta, "Prometheus's fields go up as they were"
        assert thanos["labels"] == EXTERNAL
        assert thanos["downsample"] == {"resolution": 0}
        assert thanos["source"] == "sidecar"
        assert thanos["segment_files"] == segments
        sizes = {f["rel_path"]: f.get("size_bytes") for f in thanos["files"]}
        assert sizes == {
            **{f"chunks/{n}": (data / ulid / "chunks" / n).stat().st_size for n in segments},
            "index": (data / ulid / "index").stat().st_size,
            "meta.json": None,
        }
        assert [f["rel_path"] for f in thanos["files"]] == sorted(sizes)
        # The local block is untouched, and the upload area is cleaned up.
        assert "thanos" not in metadata.Meta.read(data / ulid).raw
    assert not any((data / "thanos" / "upload").iterdir())
    assert s.sync() == 0
    # A restart that lost thanos.shipper.json asks the bucket and uploads nothing.
    (data / shipper_meta.META_FILENAME).unlink()
    assert shipper(bucket, data)[0].sync() == 0
    assert sorted(shipper_meta.read(data)) == sorted(local)


def test_promtool_and_prometheus_read_the_uploaded_blocks(data, fs_bucket, bucket_dir, tmp_path):
    shipper(fs_bucket, data)[0].sync()
    listed = subprocess.run(["promtool", "tsdb", "list", str(bucket_dir)], check=True, capture_output=True,
                            text=True).stdout
    for ulid, meta in blocks(data).items():
        line = next(line for line in listed.splitlines() if line.startswith(ulid))
        assert str(meta["stats"]["numSamples"]) in line.split(), line
    # A Prometheus on a copy of the bucket answers as one on the data directory.
    params = {"query": "count by (job) ({__name__=~'.+'})",
              "start": DATA.start, "end": DATA.end, "step": 3600}
    with PrometheusServer(tmp_path, "from-bucket", data_from=bucket_dir) as p:
        from_bucket = p.api("/api/v1/query_range", **params)
    with PrometheusServer(tmp_path, "from-data", data_from=data) as p:
        from_data = p.api("/api/v1/query_range", **params)
    assert from_bucket == from_data
    assert len(from_data["result"]) == 3, from_data


def test_empty_and_compacted_blocks_stay_unless_asked(data, bucket):
    first, second, *rest = sorted(blocks(data).values(), key=lambda m: m["minTime"])
    set_meta(data / first["ulid"], stats__numSamples=0)
    set_meta(data / second["ulid"], compaction__level=2)
    s, registry = shipper(bucket, data)
    assert s.sync() == len(rest)
    assert uploaded(bucket, first["ulid"]) == uploaded(bucket, second["ulid"]) == []
    assert registry.get_sample_value("thanos_shipper_upload_compacted_done") == 0
    s, registry = shipper(bucket, data, upload_compacted=True)
    assert s.sync() == 1
    assert bucket.exists(f"{second['ulid']}/meta.json")
    assert registry.get_sample_value("thanos_shipper_upload_compacted_done") == 1
    assert uploaded(bucket, first["ulid"]) == [], "an empty block never goes up"


def test_a_compacted_block_overlapping_the_bucket_is_refused(data, bucket):
    first, second, *_ = sorted(blocks(data).values(), key=lambda m: m["minTime"])
    shipper(bucket, data)[0].sync()
    # A compacted block over the first two blocks' range, which are already up.
    merged = data / "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    (data / first["ulid"]).rename(merged)
    set_meta(merged, ulid=merged.name, maxTime=second["maxTime"], compaction__level=2)
    with pytest.raises(ShipperError, match=f"shipping compacted block {merged.name} is blocked; overlap spotted"):
        shipper(bucket, data, upload_compacted=True)[0].sync()
    assert uploaded(bucket, merged.name) == []


def test_a_failed_upload_is_retried_and_loses_nothing(data, fs_bucket, bucket_dir):
    ordered = sorted(blocks(data).values(), key=lambda m: m["minTime"])
    # A directory where the block's index must go: the upload fails midway,
    # whoever runs it, leaving the chunks up and no meta.json.
    blocker = bucket_dir / ordered[1]["ulid"] / "index"
    blocker.mkdir(parents=True)
    s, registry = shipper(fs_bucket, data)
    with pytest.raises(ShipperError, match=f"upload {ordered[1]['ulid']}"):
        s.sync()
    assert registry.get_sample_value("thanos_shipper_upload_failures_total") == 1
    assert registry.get_sample_value("thanos_shipper_dir_sync_failures_total") == 1
    # In time order: the older block went up, the newer ones wait.
    assert (bucket_dir / ordered[0]["ulid"] / "meta.json").exists()
    assert not (bucket_dir / ordered[2]["ulid"]).exists()
    assert not (bucket_dir / ordered[1]["ulid"] / "meta.json").exists()
    blocker.rmdir()
    assert s.sync() == len(ordered) - 1
    assert registry.get_sample_value("thanos_shipper_dir_syncs_total") == 1
    assert sorted(shipper_meta.read(data)) == sorted(m["ulid"] for m in ordered)


def test_out_of_order_uploads_carry_on_past_a_failure(data, fs_bucket, bucket_dir):
    ordered = sorted(blocks(data).values(), key=lambda m: m["minTime"])
    (bucket_dir / ordered[1]["ulid"] / "index").mkdir(parents=True)
    s, registry = shipper(fs_bucket, data, allow_out_of_order=True)
    with pytest.raises(ShipperError, match="failed to sync 1/0 blocks"):
        s.sync()
    assert registry.get_sample_value("thanos_shipper_uploads_total") == len(ordered) - 1
    assert sorted(shipper_meta.read(data)) == sorted(m["ulid"] for m in ordered if m is not ordered[1])


def test_sha256_hashes_describe_the_files(data, bucket):
    shipper(bucket, data, hash_func="SHA256")[0].sync()
    ulid = next(iter(blocks(data)))
    files = json.loads(bucket.get(f"{ulid}/meta.json"))["thanos"]["files"]
    for f in files:
        if f["rel_path"] == "meta.json":
            assert "hash" not in f
            continue
        digest = hashlib.sha256((data / ulid / f["rel_path"]).read_bytes()).hexdigest()
        assert f["hash"] == {"hashFunc": "SHA256", "value": digest}


def test_unreadable_block_metadata_is_counted_and_the_rest_goes_up(data, bucket):
    ordered = sorted(blocks(data).values(), key=lambda m: m["minTime"])
    (data / ordered[0]["ulid"] / "meta.json").write_text("{not json")
    s, registry = shipper(bucket, data)
    with pytest.raises(ShipperError, match="failed to sync 0/1 blocks"):
        s.sync()
    assert registry.get_sample_value("thanos_shipper_corrupted_blocks_total") == 1
    assert all(bucket.exists(f"{m['ulid']}/meta.json") for m in ordered[1:])
    assert uploaded(bucket, ordered[0]["ulid"]) == []
