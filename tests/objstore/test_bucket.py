"""thanos_rs.objstore.Bucket: Thanos's bucket operations, on a filesystem and on S3."""

from __future__ import annotations

import pytest

from thanos_rs.errors import BucketError, ObjectNotFoundError, StoreError
from thanos_rs.objstore import Bucket


def put_block(bucket: Bucket, ulid: str = "01HZZZZZZZZZZZZZZZZZZZZZZZ") -> None:
    bucket.upload(f"{ulid}/chunks/000001", bytes(range(256)) * 4)
    bucket.upload(f"{ulid}/index", b"index")
    bucket.upload(f"{ulid}/meta.json", b"{}")


def test_round_trip(bucket):
    put_block(bucket)
    assert bucket.get("01HZZZZZZZZZZZZZZZZZZZZZZZ/index") == b"index"
    assert bucket.size("01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/000001") == 1024
    assert bucket.exists("01HZZZZZZZZZZZZZZZZZZZZZZZ/meta.json")
    assert not bucket.exists("01HZZZZZZZZZZZZZZZZZZZZZZZ/deletion-mark.json")
    bucket.upload("01HZZZZZZZZZZZZZZZZZZZZZZZ/index", b"replaced")
    assert bucket.get("01HZZZZZZZZZZZZZZZZZZZZZZZ/index") == b"replaced"


def test_ranges(bucket):
    put_block(bucket)
    name = "01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/000001"
    assert bucket.get_range(name, 10, 5) == bytes([10, 11, 12, 13, 14])
    assert bucket.get_range(name, 1020, 4) == bytes([252, 253, 254, 255])
    assert bucket.get_ranges(name, [(0, 2), (600, 3), (2, 1)]) == [b"\x00\x01", bytes([88, 89, 90]), b"\x02"]


def test_iter_follows_thanos(bucket):
    put_block(bucket, "01HAAAAAAAAAAAAAAAAAAAAAAA")
    put_block(bucket, "01HBBBBBBBBBBBBBBBBBBBBBBB")
    bucket.upload("debug/metas/x.json", b"{}")
    assert bucket.iter() == ["01HAAAAAAAAAAAAAAAAAAAAAAA/", "01HBBBBBBBBBBBBBBBBBBBBBBB/", "debug/"]
    inside = ["01HAAAAAAAAAAAAAAAAAAAAAAA/chunks/", "01HAAAAAAAAAAAAAAAAAAAAAAA/index",
              "01HAAAAAAAAAAAAAAAAAAAAAAA/meta.json"]
    assert bucket.iter("01HAAAAAAAAAAAAAAAAAAAAAAA") == inside
    assert bucket.iter("01HAAAAAAAAAAAAAAAAAAAAAAA/") == inside
    assert bucket.iter("01HAAAAAAAAAAAAAAAAAAAAAAA", recursive=True) == [
        "01HAAAAAAAAAAAAAAAAAAAAAAA/chunks/000001", "01HAAAAAAAAAAAAAAAAAAAAAAA/index",
        "01HAAAAAAAAAAAAAAAAAAAAAAA/meta.json",
    ]
    assert len(bucket.iter(recursive=True)) == 7
    assert bucket.iter("01HCCCCCCCCCCCCCCCCCCCCCCC") == []


def test_delete(bucket):
    put_block(bucket)
    for name in bucket.iter("01HZZZZZZZZZZZZZZZZZZZZZZZ", recursive=True):
        bucket.delete(name)
    assert bucket.iter() == []
    with pytest.raises(ObjectNotFoundError):
        bucket.delete("01HZZZZZZZZZZZZZZZZZZZZZZZ/index")


def test_missing_objects_raise_a_typed_error(bucket):
    for call in (lambda: bucket.get("nope/meta.json"), lambda: bucket.size("nope/meta.json"),
                 lambda: bucket.get_range("nope/meta.json", 0, 1)):
        with pytest.raises(ObjectNotFoundError) as info:
            call()
        assert isinstance(info.value, BucketError) and isinstance(info.value, StoreError)
        assert "nope/meta.json" in str(info.value)
        assert info.value.error_type == "execution"


def test_upload_file_large_and_small(bucket, tmp_path):
    # 17 MiB: above the 16 MiB part size, so a multipart upload.
    data = bytes(range(251)) * (17 * 1024 * 1024 // 251 + 1)
    path = tmp_path / "segment"
    path.write_bytes(data)
    bucket.upload_file("b/chunks/000001", path)
    assert bucket.size("b/chunks/000001") == len(data)
    assert bucket.get_range("b/chunks/000001", len(data) - 3, 3) == data[-3:]
    assert bucket.get("b/chunks/000001") == data
    (tmp_path / "small").write_bytes(b"meta")
    bucket.upload_file("b/meta.json", str(tmp_path / "small"))
    assert bucket.get("b/meta.json") == b"meta"
    with pytest.raises(BucketError, match="missing"):
        bucket.upload_file("b/x", tmp_path / "missing")


def test_prefix_keeps_objects_under_it(bucket_config):
    scoped = Bucket.from_config(bucket_config.replace("prefix: ''", "prefix: tenant-a"))
    put_block(scoped)
    assert scoped.iter() == ["01HZZZZZZZZZZZZZZZZZZZZZZZ/"]
    assert Bucket.from_config(bucket_config).iter() == ["tenant-a/"]


def test_invalid_names_are_refused(bucket):
    with pytest.raises(ValueError):
        bucket.get("../outside")


def test_name_and_type(bucket, bucket_config):
    if bucket.type == "FILESYSTEM":
        assert bucket.name.startswith("fs: ")
    else:
        assert bucket.type == "S3" and bucket.name.startswith("test-")



def test_https_checks_certificates_unless_told_not_to(tmp_path):
    from support.objstore import MotoServer

    with MotoServer(tmp_path, tls=True) as server:
        server.create_bucket("tls")
        skipping = Bucket.from_config(server.config("tls", skip_verify=True))
        skipping.upload("a", b"over TLS")
        assert skipping.get("a") == b"over TLS"
        checking = Bucket.from_config(server.config("tls").replace("insecure_skip_verify: false",
                                                                   "insecure_skip_verify: false\n  max_retries: 0"))
        with pytest.raises(BucketError, match="(?i)certificate"):
            checking.get("a")
