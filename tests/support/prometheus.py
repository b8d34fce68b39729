"""Real Prometheus 2.42 servers for tests: backfilled with
``promtool tsdb create-blocks-from openmetrics`` or fed by remote write,
listening on a free loopback port, stopped by PID when done."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from support import http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_binaries() -> None:
    missing = [b for b in ("prometheus", "promtool") if shutil.which(b) is None]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not found: install Debian's package with `apt-get install prometheus`"
        )


def backfill(openmetrics: str, data_dir: Path) -> None:
    """Writes TSDB blocks from an OpenMetrics text (timestamps in seconds)."""
    source = data_dir.parent / f"{data_dir.name}.om"
    source.write_text(openmetrics)
    backfill_file(source, data_dir)


def backfill_file(source: Path, data_dir: Path) -> None:
    """Writes TSDB blocks from an OpenMetrics file."""
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
        check=True,
        capture_output=True,
    )


#: A rule file's groups with a recording rule and an alert that fires from the
#: first evaluation on (``for: 0s``), both over ``vector(1)`` so that they need
#: no data.
RULES_ALWAYS_FIRING: list[dict] = [
    {
        "name": "example",
        "rules": [
            {"record": "job:ones:sum", "expr": "sum(vector(1))", "labels": {"team": "a"}},
            {
                "alert": "AlwaysFiring", "expr": "vector(1)", "for": "0s",
                "labels": {"severity": "none"}, "annotations": {"summary": "value {{ $value }}"},
            },
        ],
    },
]


class PrometheusServer:
    """One Prometheus process. Use as a context manager, or call start/stop."""

    def __init__(
        self,
        workdir: Path,
        name: str = "prometheus",
        external_labels: dict[str, str] | None = None,
        scrape_configs: list[dict] | None = None,
        openmetrics: str | None = None,
        port: int | None = None,
        data_from: Path | None = None,
        extra_args: tuple[str, ...] = (),
        remote_write_receiver: bool = False,
        retention: str = "100y",
        rule_groups: list[dict] | None = None,
        rule_file: Path | None = None,
    ) -> None:
        require_binaries()
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data = self.dir / "data"
        self.config_file = self.dir / "prometheus.yml"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.external_labels = external_labels or {}
        self.scrape_configs = scrape_configs or []
        self.extra_args = extra_args
        # Accept POST /api/v1/write (see remote_write).
        self.remote_write_receiver = remote_write_receiver
        self.retention = retention
        # Written to rules.yml, or to ``rule_file`` (an HA pair's replicas
        # load one file: the group's file is part of its identity), and
        # evaluated every second (see RULES_ALWAYS_FIRING).
        self.rule_file = rule_file or self.dir / "rules.yml"
        self.rule_groups = rule_groups
        self.proc: subprocess.Popen | None = None
        if data_from is not None and not self.data.exists():
            # A copy: a TSDB folder belongs to one running server at a time.
            shutil.copytree(data_from, self.data, ignore=shutil.ignore_patterns("lock"))
        if openmetrics is not None and not self.data.exists():
            backfill(openmetrics, self.data)
        self.write_config()

    def write_config(self, **global_extra) -> None:
        config = {
            "global": {"scrape_interval": "1s", "external_labels": self.external_labels, **global_extra},
            "scrape_configs": self.scrape_configs,
        }
        if self.rule_groups is not None:
            config["global"].setdefault("evaluation_interval", "1s")
            self.rule_file.write_text(yaml.safe_dump({"groups": self.rule_groups}))
            config["rule_files"] = [str(self.rule_file)]
        self.config_file.write_text(yaml.safe_dump(config))

    def start(self) -> PrometheusServer:
        self.log = open(self.dir / "prometheus.log", "ab")
        self.proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={self.config_file}",
                f"--storage.tsdb.path={self.data}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # Backfilled data is years old: kept by default.
                f"--storage.tsdb.retention.time={self.retention}",
                "--web.enable-lifecycle",
                "--web.enable-admin-api",
                *(["--web.enable-remote-write-receiver"] if self.remote_write_receiver else []),
                *self.extra_args,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        http.wait_ready(self.url, self.proc, "prometheus", timeout, lambda: f"see {self.dir}/prometheus.log")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.log.close()

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def remote_write(self, bodies: list[bytes]) -> None:
        """Sends snappy-compressed WriteRequests (``support.remote_write``) in
        order; needs ``remote_write_receiver=True``."""
        from support import remote_write

        for body in bodies:
            remote_write.post(self.url, body)

    def requests_served(self, handler: str) -> float:
        """How many requests the HTTP handler ``handler`` (``/api/v1/read``) has
        answered, whatever the status code."""
        return sum(value for (name, labels), value in http.metrics(self.url).items()
                   if name == "prometheus_http_requests_total" and ("handler", handler) in labels)

    def api(self, path: str, **params) -> dict:
        """GET on the HTTP API; returns the `data` of a successful answer."""
        body = self.api_body(path, **params)
        assert body["status"] == "success", body
        return body["data"]

    def api_body(self, path: str, **params) -> dict:
        """GET on the HTTP API; returns the whole JSON body, errors included."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=60) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)
