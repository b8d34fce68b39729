"""The demo's synthetic targets, live: ``python -m thanos_rs.demo.exporter``
serves the series of :mod:`.history` (requests by code, a latency
histogram, memory in use) from where the backfilled history left them, so
that graphs go on past the demo's start instead of dropping at it.

One process serves every target of every cluster, as a multi-target exporter
does: Prometheus asks ``/metrics?fleet=eu1&target=host3:9100`` and labels the
answer with the scrape job (``app0``...) and, by relabelling, ``instance``;
``up`` is Prometheus's own. The values move on every ``interval`` seconds of
wall time, whoever asks, so the two us1 replicas scrape the same values, as
an HA pair scraping the same targets does."""

from __future__ import annotations

import argparse
import json
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from thanos_rs.demo.history import BUCKETS

#: Labels a scrape adds; the exporter leaves them out of what it serves.
SCRAPE_LABELS = ("job", "instance")
_LABEL = re.compile(r'(\w+)="([^"]*)"')
#: Requests each scrape interval at most, by code (as the history draws them).
REQUESTS = {"200": 300, "500": 10}


@dataclass
class Target:
    """One target's series: ``{(name, other labels as text): value}``."""

    series: dict[tuple[str, str], float] = field(default_factory=dict)

    def step(self, rnd: random.Random) -> None:
        """One scrape interval on, drawn as the history draws it."""
        for (name, labels), value in list(self.series.items()):
            if name == "http_requests_total":
                code = dict(_LABEL.findall(labels)).get("code", "200")
                self.series[name, labels] = value + rnd.randrange(REQUESTS.get(code, 10))
            elif name == "node_memory_used_bytes":
                self.series[name, labels] = max(0.0, value + rnd.gauss(0, 2e7))
        for _ in range(rnd.randrange(20)):
            latency = rnd.lognormvariate(-2, 1)
            self._add("http_request_duration_seconds_sum", "", latency)
            self._add("http_request_duration_seconds_count", "", 1)
            for le in BUCKETS:
                if le == "+Inf" or latency <= float(le):
                    self._add("http_request_duration_seconds_bucket", f'le="{le}"', 1)

    def _add(self, name: str, labels: str, amount: float) -> None:
        if (name, labels) in self.series:
            self.series[name, labels] += amount

    def exposition(self) -> str:
        """Prometheus's text format, one ``# TYPE`` per family."""
        out, typed = [], set()
        for (name, labels), value in sorted(self.series.items()):
            family, kind = _family(name)
            if family not in typed:
                typed.add(family)
                out.append(f"# TYPE {family} {kind}")
            text = f"{value:.4f}" if name.endswith("_sum") else f"{value:.0f}"
            out.append(f"{name}{{{labels}}} {text}" if labels else f"{name} {text}")
        return "\n".join(out) + "\n"


def _family(name: str) -> tuple[str, str]:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.startswith("http_request_duration_seconds") and name.endswith(suffix):
            return name[: -len(suffix)], "histogram"
    return name, "counter" if name.endswith("_total") else "gauge"


@dataclass
class Fleet:
    """The targets of one cluster and the time their values are at."""

    targets: dict[str, Target]
    time: float
    interval: float
    rnd: random.Random
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_last_values(cls, last: dict[str, float], time_: float, interval: float, seed: int) -> Fleet:
        """From :func:`.history.write`'s last values (``up`` left to Prometheus)."""
        targets: dict[str, Target] = {}
        for series, value in last.items():
            name, _, rest = series.partition("{")
            labels = _LABEL.findall(rest)
            instance = dict(labels).get("instance", "")
            if name == "up" or not instance:
                continue
            own = ",".join(f'{k}="{v}"' for k, v in labels if k not in SCRAPE_LABELS)
            targets.setdefault(instance, Target()).series[name, own] = value
        return cls(targets, time_, interval, random.Random(seed))

    def at(self, now: float, target: str) -> str | None:
        with self.lock:
            while self.time + self.interval <= now:
                self.time += self.interval
                for t in self.targets.values():
                    t.step(self.rnd)
            found = self.targets.get(target)
            return None if found is None else found.exposition()


def save_state(path: Path, fleets: dict[str, tuple[dict[str, float], float, float, int]]) -> None:
    """``{name: (last values, their time, interval, seed)}`` for :func:`load_state`."""
    path.write_text(json.dumps({
        name: {"last": last, "time": t, "interval": interval, "seed": seed}
        for name, (last, t, interval, seed) in fleets.items()
    }))


def load_state(path: Path) -> dict[str, Fleet]:
    raw = json.loads(path.read_text())
    return {name: Fleet.from_last_values(f["last"], f["time"], f["interval"], f["seed"]) for name, f in raw.items()}


def serve(address: str, fleets: dict[str, Fleet]) -> ThreadingHTTPServer:
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/-/ready":
                return self._answer(200, "OK\n")
            params = dict(urllib.parse.parse_qsl(url.query))
            fleet = fleets.get(params.get("fleet", ""))
            if url.path != "/metrics" or fleet is None:
                return self._answer(404, "no such fleet or path\n")
            body = fleet.at(time.time(), params.get("target", ""))
            if body is None:
                return self._answer(404, f"no target {params.get('target')!r} in this fleet\n")
            self._answer(200, body, "text/plain; version=0.0.4; charset=utf-8")

        def _answer(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return ThreadingHTTPServer((host, int(port)), Handler)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m thanos_rs.demo.exporter", description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, help="host:port to serve on")
    p.add_argument("--state", required=True, type=Path, help="the demo's state file (last values of the history)")
    args = p.parse_args()
    server = serve(args.listen, load_state(args.state))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
