"""Buckets for tests: a FILESYSTEM bucket in a temporary directory, and an S3
bucket on moto's standalone S3 server (PyPI ``moto[server]``, pinned in the
``test`` extra), started here as a process on a free loopback port; and
blocks laid out in them as Thanos's shipper does."""

from __future__ import annotations

import itertools
import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.prometheus import free_port
from thanos_rs.objstore import Bucket

#: The bucket kinds that tests of bucket readers and writers run on, as
#: ``params`` of their bucket fixtures.
KINDS = ("FILESYSTEM", "S3")

#: moto takes any credentials; these stand for real ones in tests that check
#: that secrets are never shown.
ACCESS_KEY = "AKIATHANOSRSTEST"
SECRET_KEY = "s3cr3t-n0t-t0-be-shown"


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1. Use as a context manager;
    ``stop`` and ``start`` again for an object store that goes away and comes
    back on the same port, empty (moto keeps its buckets in memory)."""

    def __init__(self, workdir: Path, tls: bool = False) -> None:
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        self.log = workdir / "moto.log"
        self.proc: subprocess.Popen | None = None
        self.tls_args: list[str] = []
        self.scheme = "http"
        if tls:
            cert, key = self_signed_certificate(workdir)
            self.tls_args = ["-c", str(cert), "-k", str(key)]
            self.scheme = "https"

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> MotoServer:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port), *self.tls_args],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.scheme}://{self.endpoint}/", timeout=2, context=_UNVERIFIED).close()
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not start: {self.log.read_text()}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def create_bucket(self, name: str) -> None:
        # moto checks no signatures, so a plain PUT creates the bucket.
        request = urllib.request.Request(f"{self.scheme}://{self.endpoint}/{name}", method="PUT")
        urllib.request.urlopen(request, context=_UNVERIFIED).close()

    def config(self, bucket: str, prefix: str = "", skip_verify: bool = False, max_retries: int | None = None) -> str:
        retries = "" if max_retries is None else f"  max_retries: {max_retries}\n"
        return (
            f"type: S3\nconfig:\n  bucket: {bucket}\n  endpoint: {self.endpoint}\n{retries}"
            f"  access_key: {ACCESS_KEY}\n  secret_key: {SECRET_KEY}\n  insecure: {str(self.scheme == 'http').lower()}\n"
            f"  http_config:\n    insecure_skip_verify: {str(skip_verify).lower()}\n"
            f"prefix: {prefix!r}\n"
        )


# The test servers' certificates are made up on the spot; only their own
# readiness probes skip the check.
_UNVERIFIED = ssl._create_unverified_context()


def self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no one has signed, and its key."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def filesystem_config(directory: Path, prefix: str = "") -> str:
    return f"type: FILESYSTEM\nconfig:\n  directory: {str(directory)!r}\nprefix: {prefix!r}\n"


_names = itertools.count()


def new_bucket(request: pytest.FixtureRequest, directory: Path, kind: str | None = None) -> str:
    """The objstore YAML of a new, empty bucket of ``kind`` (by default the
    fixture's param, one of :data:`KINDS`): ``directory``, or a bucket of its
    own on the session's moto server (the ``moto`` fixture)."""
    if (kind or request.param) == "FILESYSTEM":
        return filesystem_config(directory)
    return new_s3_bucket(request.getfixturevalue("moto"))


def new_s3_bucket(moto: MotoServer) -> str:
    name = f"test-{next(_names)}"
    moto.create_bucket(name)
    return moto.config(name)


def upload_block(bucket: Bucket, block: Path, labels: dict[str, str], files: bool = True,
                 meta: bool = True) -> str:
    """Uploads a Prometheus block as Thanos's shipper does: chunks and index
    first, meta.json last with the thanos section (labels, the block's own
    resolution, 0 for a Prometheus block, source and, with ``files``, the
    segment files and sizes). Without
    ``meta``, the upload stops before meta.json: a half-uploaded block.
    Returns the block's ULID."""
    parts = sorted(p for p in block.rglob("*") if p.is_file() and p.name not in ("meta.json", "tombstones"))
    for path in parts:
        bucket.upload_file(f"{block.name}/{path.relative_to(block)}", path)
    if not meta:
        return block.name
    doc = json.loads((block / "meta.json").read_text())
    resolution = doc.get("thanos", {}).get("downsample", {}).get("resolution", 0)
    doc["thanos"] = {"version": 1, "labels": labels, "downsample": {"resolution": resolution}, "source": "sidecar"}
    if files:
        doc["thanos"]["segment_files"] = [p.name for p in parts if p.parent.name == "chunks"]
        doc["thanos"]["files"] = [{"rel_path": str(p.relative_to(block)), "size_bytes": p.stat().st_size}
                                  for p in parts] + [{"rel_path": "meta.json"}]
    bucket.upload(f"{block.name}/meta.json", json.dumps(doc, indent="\t").encode())
    return block.name
