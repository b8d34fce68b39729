"""HTTP helpers for tests: waiting for a process's ``/-/ready`` and calling a
JSON API (Prometheus's or ours) with GET or a urlencoded POST."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request


def wait_ready(url: str, proc: subprocess.Popen | None, what: str, timeout: float = 60.0, logs=lambda: "") -> None:
    """Polls ``url/-/ready`` until it answers 200; fails early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{logs()}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} on {url} not ready after {timeout}s:\n{logs()}")


def request(url: str, path: str, params: dict | list | None = None, method: str = "GET") -> tuple[int, dict]:
    """An API call; returns (status, JSON body), errors included."""
    query = urllib.parse.urlencode(params or {}, doseq=True)
    if method == "GET":
        req = urllib.request.Request(f"{url}{path}?{query}")
    else:
        req = urllib.request.Request(
            f"{url}{path}", data=query.encode(), method=method,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
