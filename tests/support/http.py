"""HTTP helpers for tests: waiting for a process's ``/-/ready``, reading its
``/metrics``, and calling a JSON API (Prometheus's or ours) with GET or a
urlencoded POST, once or many times over one kept-alive connection."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def metrics(url: str) -> dict[tuple[str, tuple], float]:
    """The samples of ``url/metrics``: ``{(name, sorted label pairs): value}``."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


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


class Session:
    """Urlencoded POSTs to one JSON API over a single kept-alive connection,
    for tests that make thousands of calls; reconnects once if the server
    closed it."""

    def __init__(self, url: str, timeout: float = 120) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, params: dict | list) -> tuple[int, dict]:
        body = urllib.parse.urlencode(params, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                r = self.conn.getresponse()
                return r.status, json.loads(r.read())
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
