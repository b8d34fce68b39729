"""``python -m thanos_rs demo`` (the tutorial's topology: three Prometheus,
three sidecars, one querier) on free ports, as a process, for the tests that
need the whole thing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from support.prometheus import free_port
from support.storeapi import wait_until


@dataclass
class Demo:
    proc: subprocess.Popen
    #: Ports by the demo's ``--ports.*`` names, e.g. ``ports["sidecar-grpc"][0]``.
    ports: dict[str, list[int]]
    work: Path
    output: Callable[[], str]

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['query-http'][0]}"


@contextlib.contextmanager
def demo(work: Path, history: str = "1h", objstore: bool = False) -> Iterator[Demo]:
    """Started and ready (the querier sees the three sidecars, and with
    ``objstore`` the store gateway); stopped with Ctrl-C afterwards."""
    ports = {name: [free_port() for _ in range(n)] for name, n in
             (("prometheus", 3), ("sidecar-grpc", 3), ("sidecar-http", 3), ("query-http", 1), ("query-grpc", 1),
              ("exporter", 1), *((("store", 2),) if objstore else ()))}
    args = [f"--ports.{k}={','.join(map(str, v))}" for k, v in ports.items()]
    log = open(work / "demo.out", "w+")
    # Started with SIGINT ignored, as a shell's background job (or a CI
    # runner's) is: Ctrl-C must stop the demo all the same.
    proc = subprocess.Popen(
        [sys.executable, "-m", "thanos_rs", "demo", f"--workdir={work / 'run'}", f"--history={history}", *args,
         *(["--objstore"] if objstore else [])],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    output = lambda: (work / "demo.out").read_text()  # noqa: E731
    try:
        wait_until(lambda: "Started at" in output() or proc.poll() is not None, timeout=180)
        assert proc.poll() is None, output()
        yield Demo(proc, ports, work, output)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        log.close()
