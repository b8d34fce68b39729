"""``thanos_rs demo``: starts the tutorial topology on this machine with real
Prometheus binaries and our sidecars and querier, shows progress until every
component is ready, prints where to look, and on Ctrl-C stops everything it
started."""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from thanos_rs.demo import exporter
from thanos_rs.demo.history import Fleet, write
from thanos_rs.demo.topology import APP_JOBS, APP_TARGETS, TOPOLOGY, Ports
from thanos_rs.errors import DemoError

#: How long each component may take to become ready.
READY_TIMEOUT = 120.0
#: How long a stopping component may take before it is killed.
STOP_TIMEOUT = 8.0
#: The exporter's state in the workdir: the synthetic series' last values.
EXPORTER_STATE = "exporter-state.json"
#: With --objstore: the bucket's configuration and its folder, in the workdir.
BUCKET_CONFIG = "bucket.yml"
BUCKET_DIR = "bucket"
#: With --objstore, Prometheus cuts blocks this long (min and max block
#: duration equal, as the shipper requires): one goes up every few minutes.
DEMO_BLOCK = "5m"


def _die_with_parent() -> None:
    """In each child: get SIGTERM if the demo itself dies, so that no process
    outlives it even when it is killed."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    ready_url: str
    log_path: Path
    proc: subprocess.Popen | None = None
    log: object = field(default=None, repr=False)

    def start(self) -> None:
        self.log = open(self.log_path, "ab")
        # A session of its own: Ctrl-C reaches the demo, which stops the
        # children in order, instead of every process at once.
        self.proc = subprocess.Popen(
            self.argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False


def _say(text: str) -> None:
    print(text, flush=True)


def _check_ports(host: str, ports: Ports, objstore: bool) -> None:
    busy = []
    for port in ports.all(objstore):
        with socket.socket() as s:
            # As the servers will: connections of a previous run lingering in
            # TIME_WAIT do not make a port busy, a listener does.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                busy.append(port)
    if busy:
        raise DemoError(
            f"port(s) {', '.join(map(str, busy))} on {host} are in use: stop what uses them or choose other "
            "ports (--ports.prometheus, --ports.sidecar-grpc, --ports.sidecar-http, --ports.query-http, "
            "--ports.query-grpc, --ports.exporter, --ports.store)"
        )


def _backfill(workdir: Path, history_hours: float) -> None:
    """A synthetic history for each Prometheus: eu1 its own, the us1 pair the
    same one (they scrape the same targets); without history, the first
    values only. Either way the exporter's state: where each cluster's
    series are, for it to carry them on."""
    # Up to half a minute ago: the exporter takes it from there, within the
    # 5 min lookback, so graphs run on without a break.
    end = time.time() - 30
    start = int(end - history_hours * 3600) // 15 * 15
    state = {}
    for spec in TOPOLOGY:
        if spec.cluster in state:
            continue
        same = [s for s in TOPOLOGY if s.seed == spec.seed]
        source = workdir / f"history-{spec.seed}.om"
        fleet = Fleet(targets=APP_TARGETS, start=start, hours=history_hours, job="app", jobs=APP_JOBS, seed=spec.seed)
        last = write(fleet, source)
        if history_hours > 0:
            for s in same:
                subprocess.run(
                    ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(workdir / s.name / "data")],
                    check=True, capture_output=True,
                )
        source.unlink()
        state[spec.cluster] = (last, fleet.end, fleet.interval, spec.seed)
    exporter.save_state(workdir / EXPORTER_STATE, state)


def build(args: argparse.Namespace, workdir: Path, ports: Ports) -> list[list[Child]]:
    """The children, in groups started in turn: the exporter, the Prometheus
    servers, the sidecars (and with --objstore the store gateway), the querier."""
    host = args.host
    bucket_flags: list[str] = []
    prom_flags: list[str] = []
    if args.objstore:
        config = workdir / BUCKET_CONFIG
        config.write_text(f"type: FILESYSTEM\nconfig:\n  directory: {workdir / BUCKET_DIR}\n")
        bucket_flags = [f"--objstore.config-file={config}"]
        prom_flags = [f"--storage.tsdb.min-block-duration={DEMO_BLOCK}",
                      f"--storage.tsdb.max-block-duration={DEMO_BLOCK}"]
    py = [sys.executable, "-m", "thanos_rs"]
    log_dir = workdir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    synthetic = Child(
        "exporter of the synthetic targets",
        [sys.executable, "-m", "thanos_rs.demo.exporter", f"--listen={host}:{ports.exporter}",
         f"--state={workdir / EXPORTER_STATE}"],
        f"http://{host}:{ports.exporter}/-/ready", log_dir / "exporter.log",
    )
    proms, sidecars = [], []
    for spec in TOPOLOGY:
        base = workdir / spec.name
        (base / "data").mkdir(parents=True, exist_ok=True)
        config = base / "prometheus.yml"
        config.write_text(spec.config(ports, host))
        prom_port = ports.prometheus[spec.index]
        proms.append(Child(
            f"Prometheus {spec.cluster} replica {spec.replica}",
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={base / 'data'}",
             f"--web.listen-address={host}:{prom_port}", "--web.enable-lifecycle", "--web.enable-admin-api",
             *prom_flags],
            f"http://{host}:{prom_port}/-/ready", log_dir / f"{spec.name}.log",
        ))
        http, grpc = ports.sidecar_http[spec.index], ports.sidecar_grpc[spec.index]
        sidecars.append(Child(
            f"sidecar of {spec.cluster} replica {spec.replica}",
            [*py, "sidecar", f"--http-address={host}:{http}", f"--grpc-address={host}:{grpc}",
             f"--reloader.config-file={config}", f"--prometheus.url=http://{host}:{prom_port}",
             # Read the blocks and the head from disk, as Thanos's sidecar reads them to upload.
             f"--tsdb.path={base / 'data'}", *bucket_flags],
            f"http://{host}:{http}/-/ready", log_dir / f"sidecar-{spec.name}.log",
        ))
    stores = [f"--store={host}:{p}" for p in ports.sidecar_grpc]
    if args.objstore:
        grpc, http = ports.store
        sidecars.append(Child(
            "store gateway",
            [*py, "store", f"--http-address={host}:{http}", f"--grpc-address={host}:{grpc}", *bucket_flags,
             f"--data-dir={workdir / 'store'}", "--sync-block-duration=30s"],
            f"http://{host}:{http}/-/ready", log_dir / "store.log",
        ))
        stores.append(f"--store={host}:{grpc}")
    querier = Child(
        "querier",
        [*py, "query", f"--http-address={host}:{ports.query_http}", f"--grpc-address={host}:{ports.query_grpc}",
         "--query.replica-label=replica", *stores],
        f"http://{host}:{ports.query_http}/-/ready", log_dir / "querier.log",
    )
    return [[synthetic], proms, sidecars, [querier]]


def _wait_ready(children: list[Child]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    for child in children:
        while not child.is_ready():
            if child.proc.poll() is not None:
                raise DemoError(f"{child.name} exited with code {child.proc.returncode}; see {child.log_path}")
            if time.monotonic() > deadline:
                raise DemoError(f"{child.name} not ready after {READY_TIMEOUT:.0f}s; see {child.log_path}")
            time.sleep(0.2)
        _say(f"  ready: {child.name}")


def _wait_stores(host: str, ports: Ports, objstore: bool) -> None:
    """Until the querier sees the three sidecars (and the store gateway) UP
    (it polls every 5 s)."""
    url = f"http://{host}:{ports.query_http}/api/v1/stores"
    want = {"sidecar": len(TOPOLOGY), **({"store": 1} if objstore else {})}
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                stores = json.load(r)["data"]
            up = {kind: len([s for s in stores.get(kind, []) if s["lastError"] is None]) for kind in want}
            if up == want:
                return
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise DemoError(f"the querier does not see {' and '.join(f'{n} {k}' for k, n in want.items())}; see the logs")


def _wait_scraped(host: str, ports: Ports, since: float) -> None:
    """Until every Prometheus has scraped each of its targets once since
    ``since``, as the querier sees it: queries at "now" then find the
    tutorial's series (Prometheus scrapes every 15 s; the first scrape of a
    target comes up to that long after start)."""
    targets = sum(len(t) for spec in TOPOLOGY for t in spec.targets(ports, host).values())
    query = urllib.parse.urlencode({"query": f"count(timestamp(up) >= {since:.3f})", "dedup": "false"})
    url = f"http://{host}:{ports.query_http}/api/v1/query?{query}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                result = json.load(r)["data"]["result"]
            if result and int(result[0]["value"][1]) >= targets:
                return
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise DemoError(f"the {targets} targets were not all scraped after {READY_TIMEOUT:.0f}s; see the logs")


def run(args: argparse.Namespace) -> int:
    missing = [b for b in ("prometheus", "promtool") if shutil.which(b) is None]
    if missing:
        sys.stderr.write(
            f"thanos_rs demo: {' and '.join(missing)} not found on PATH. Install Prometheus 2.42 from Debian: "
            "sudo apt-get install prometheus\n"
        )
        return 1
    ports = Ports(args.ports_prometheus, args.ports_sidecar_grpc, args.ports_sidecar_http,
                  args.ports_query_http, args.ports_query_grpc, args.ports_exporter, args.ports_store)
    try:
        _check_ports(args.host, ports, args.objstore)
    except DemoError as e:
        sys.stderr.write(f"thanos_rs demo: {e}\n")
        return 1
    keep = bool(args.workdir)
    workdir = Path(args.workdir).resolve() if keep else Path(tempfile.mkdtemp(prefix="thanos-rs-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)

    stopping = False

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    # Installed for SIGINT too: a process started in the background by a
    # shell inherits SIGINT ignored, and Python then leaves it ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    groups = build(args, workdir, ports)
    started: list[Child] = []
    code = 0
    try:
        _say(f"Thanos global view on this machine; data, configs and logs in {workdir}")
        if args.history > 0:
            _say(f"Backfilling {args.history / 3600:g}h of synthetic history…")
        _backfill(workdir, args.history / 3600)
        scraping_since = 0.0
        stores = "sidecars and the store gateway" if args.objstore else "sidecars"
        for group, what in zip(groups, ("exporter of the synthetic targets", "Prometheus servers", stores,
                                        "querier")):
            _say(f"Starting the {what}…")
            if group is groups[1]:
                scraping_since = time.time()
            for child in group:
                child.start()
                started.append(child)
            _wait_ready(group)
        _wait_stores(args.host, ports, args.objstore)
        _say("Waiting for the first scrapes…")
        _wait_scraped(args.host, ports, scraping_since)
        h = args.host
        _say("")
        _say(f"Querier UI:   http://{h}:{ports.query_http}/graph?g0.expr=prometheus_tsdb_head_series&g0.tab=1")
        _say(f"Stores:       http://{h}:{ports.query_http}/stores")
        proms, sidecars = groups[1], groups[2]
        for spec in TOPOLOGY:
            _say(f"Prometheus {spec.cluster}/{spec.replica}: http://{h}:{ports.prometheus[spec.index]} "
                 f"(pid {proms[spec.index].proc.pid}, its sidecar's {sidecars[spec.index].proc.pid})   "
                 f"config {workdir / spec.name / 'prometheus.yml'}")
        if args.objstore:
            _say(f"Bucket:       {workdir / BUCKET_DIR}   blocks: python -m thanos_rs tools bucket inspect "
                 f"--objstore.config-file={workdir / BUCKET_CONFIG}")
        _say(f"Stop one Prometheus alone: curl -X POST http://{h}:{ports.prometheus[2]}/-/quit  (us1 replica 1)")
        _say("Try: sum(prometheus_tsdb_head_series), with and without deduplication. Ctrl-C stops everything.")
        _say(f"Started at {dt.datetime.now():%H:%M:%S}")
        # A component that exits is reported, and the rest keeps running: stopping
        # a Prometheus to watch the querier cope is part of the demonstration.
        reported: set[str] = set()
        while True:
            for child in started:
                if child.proc.poll() is not None and child.name not in reported:
                    reported.add(child.name)
                    _say(f"{child.name} exited with code {child.proc.returncode} (see {child.log_path}); "
                         "the others keep running")
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say("\nStopping…")
    except DemoError as e:
        sys.stderr.write(f"thanos_rs demo: {e}\n")
        code = 1
    except subprocess.CalledProcessError as e:
        sys.stderr.write(f"thanos_rs demo: {' '.join(e.cmd[:4])} failed: {e.stderr.decode(errors='replace')}\n")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(started):
            child.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        if stopping or code == 0:
            _say("Stopped." + ("" if not keep else f" Data kept in {workdir}"))
    return code
