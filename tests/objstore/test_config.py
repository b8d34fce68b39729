"""thanos_rs.objstore.config: Thanos's objstore YAML, its flags, and secrets kept out of sight."""

from __future__ import annotations

import pytest

from support.objstore import ACCESS_KEY, SECRET_KEY
from thanos_rs.errors import BucketConfigError, BucketError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.config import AzureConfig, FilesystemConfig, GCSConfig, S3Config, from_flags, parse

S3 = f"""
type: s3
config:
  bucket: thanos
  endpoint: 127.0.0.1:1
  region: eu-west-1
  access_key: {ACCESS_KEY}
  secret_key: {SECRET_KEY}
  session_token: tok3n-n0t-t0-be-shown
  insecure: true
  signature_version2: false
  http_config:
    insecure_skip_verify: true
    idle_conn_timeout: 90s
  part_size: 67108864
  max_retries: 0
prefix: tenant-a
"""


def test_s3_fields():
    cfg = parse(S3)
    assert (cfg.type, cfg.prefix) == ("S3", "tenant-a")
    c = cfg.config
    assert isinstance(c, S3Config)
    assert (c.bucket, c.endpoint, c.region, c.access_key, c.secret_key) == (
        "thanos", "127.0.0.1:1", "eu-west-1", ACCESS_KEY, SECRET_KEY)
    assert c.insecure and c.http_config.insecure_skip_verify and c.session_token
    assert c.max_retries == 0


def test_other_providers():
    fs = parse("type: FILESYSTEM\nconfig:\n  directory: /tmp/b\n")
    assert fs.config == FilesystemConfig(directory="/tmp/b") and fs.prefix == ""
    gcs = parse("type: gcs\nconfig:\n  bucket: b\n  service_account: '{\"type\": \"service_account\"}'\n")
    assert isinstance(gcs.config, GCSConfig) and gcs.config.bucket == "b"
    az = parse("type: Azure\nconfig:\n  storage_account: acc\n  storage_account_key: k3y\n  container: c\n")
    assert isinstance(az.config, AzureConfig)
    assert (az.config.container, az.config.endpoint) == ("c", "blob.core.windows.net")


@pytest.mark.parametrize("text, message", [
    ("type: SWIFT\nconfig: {}\n", "bucket with type SWIFT is not supported"),
    ("config: {}\n", "type: missing; one of FILESYSTEM, S3, GCS, AZURE"),
    ("type: FILESYSTEM\nconfig: {}\n", "config.directory: missing"),
    ("type: S3\nconfig:\n  bucket: b\n", "config.endpoint: missing"),
    ("type: S3\nconfig:\n  endpoint: e\n", "config.bucket: missing"),
    ("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  access_key: a\n", "config.secret_key: missing"),
    ("type: GCS\nconfig: {}\n", "config.bucket: missing"),
    ("type: AZURE\nconfig:\n  storage_account: a\n", "config.container: missing"),
    ("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  buckett: c\n", "config.buckett: unknown field"),
    ("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  sse_config: {type: SSE-S3}\n",
     "config.sse_config: not supported"),
    ("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  insecure: 'yes'\n", "config.insecure: expected true or false"),
    ("typo: S3\n", "typo: unknown field"),
    ("type: GCS\nconfig:\n  bucket: b\n  max_retries: -1\n", "config.max_retries: expected a number"),
    ("- a list\n", "expected a mapping"),
])
def test_errors_name_the_field(text, message):
    with pytest.raises(BucketConfigError, match=message):
        parse(text)


def test_empty_values_of_unimplemented_fields_are_accepted():
    # As Thanos's documentation prints every field with its default.
    parse("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  aws_sdk_auth: false\n"
          "  sse_config: {type: '', kms_key_id: ''}\n  trace: {enable: false}\n  put_user_metadata: {}\n")


def test_yaml_errors_do_not_quote_the_document():
    with pytest.raises(BucketConfigError) as info:
        parse(f"type: S3\nconfig:\n  secret_key: {SECRET_KEY}\n  bucket: [unclosed\n")
    assert SECRET_KEY not in str(info.value) and "line" in str(info.value)


def test_secrets_are_redacted():
    cfg = parse(S3)
    for shown in (repr(cfg), str(cfg.redacted()), repr(Bucket.from_config(cfg))):
        assert SECRET_KEY not in shown and "tok3n" not in shown, shown
        assert ACCESS_KEY in shown and "<secret>" in shown
    assert cfg.redacted()["config"]["secret_key"] == "<secret>"
    az = parse("type: AZURE\nconfig:\n  storage_account: a\n  storage_account_key: k3y\n  container: c\n")
    assert "k3y" not in repr(az)
    gcs = parse("type: GCS\nconfig:\n  bucket: b\n  service_account: '{\"private_key\": \"pk\"}'\n")
    assert "private_key" not in repr(gcs)


def test_request_errors_do_not_show_secrets():
    # Port 1 on loopback refuses connections; max_retries 0 fails at once.
    bucket = Bucket.from_config(S3.replace("prefix: tenant-a", "prefix: ''"))
    with pytest.raises(BucketError) as info:
        bucket.exists("x")
    assert SECRET_KEY not in str(info.value) and "tok3n" not in str(info.value)


def test_flags(tmp_path):
    assert from_flags("", "") is None
    assert from_flags(None, None) is None
    assert from_flags("", "   \n") is None
    content = "type: FILESYSTEM\nconfig:\n  directory: /tmp/b\n"
    (tmp_path / "bucket.yml").write_text(content)
    assert from_flags(str(tmp_path / "bucket.yml"), "") == from_flags("", content) == parse(content)
    with pytest.raises(BucketConfigError, match="both objstore.config-file and objstore.config flags set"):
        from_flags(str(tmp_path / "bucket.yml"), content)
    with pytest.raises(BucketConfigError, match="loading file .*missing.yml for objstore.config-file"):
        from_flags(str(tmp_path / "missing.yml"), "")
    assert Bucket.from_flags("", "") is None
    assert Bucket.from_flags("", content).type == "FILESYSTEM"


def test_environment_variables_are_substituted(monkeypatch):
    monkeypatch.setenv("THANOS_RS_TEST_DIR", "/tmp/from-env")
    cfg = from_flags("", "type: FILESYSTEM\nconfig:\n  directory: $(THANOS_RS_TEST_DIR)\n")
    assert cfg is not None and cfg.config == FilesystemConfig(directory="/tmp/from-env")
    with pytest.raises(BucketConfigError, match="unset environment variable 'THANOS_RS_NOT_SET'"):
        from_flags("", "type: FILESYSTEM\nconfig:\n  directory: $(THANOS_RS_NOT_SET)\n")


def test_provider_refusals_are_config_errors():
    # The crate reads a GCS service account's key when the client is made;
    # its complaint must not quote the key.
    with pytest.raises(BucketConfigError, match="create GCS client") as info:
        Bucket.from_config("type: GCS\nconfig:\n  bucket: b\n  service_account: '{\"private_key\": \"pk-s3cr3t\"'\n")
    assert "pk-s3cr3t" not in str(info.value)
