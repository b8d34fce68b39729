"""Buckets for tests: a FILESYSTEM bucket in a temporary directory, and an S3
bucket on moto's standalone S3 server (PyPI ``moto[server]``, pinned in the
``test`` extra), started here as a process on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from support.prometheus import free_port

#: moto takes any credentials; these stand for real ones in tests that check
#: that secrets are never shown.
ACCESS_KEY = "AKIATHANOSRSTEST"
SECRET_KEY = "s3cr3t-n0t-t0-be-shown"


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1. Use as a context manager."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        self.log = workdir / "moto.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> MotoServer:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://{self.endpoint}/", timeout=2).close()
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"moto server did not start: {self.log.read_text()}") from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
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
        urllib.request.urlopen(urllib.request.Request(f"http://{self.endpoint}/{name}", method="PUT")).close()

    def config(self, bucket: str, prefix: str = "") -> str:
        return (
            f"type: S3\nconfig:\n  bucket: {bucket}\n  endpoint: {self.endpoint}\n"
            f"  access_key: {ACCESS_KEY}\n  secret_key: {SECRET_KEY}\n  insecure: true\n"
            f"prefix: {prefix!r}\n"
        )


def filesystem_config(directory: Path, prefix: str = "") -> str:
    return f"type: FILESYSTEM\nconfig:\n  directory: {str(directory)!r}\nprefix: {prefix!r}\n"
