"""Our own components as real processes for tests: ``python -m thanos_rs
query``, ``sidecar`` and ``store`` on free loopback ports, waited for until
ready and stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from support import http
from support.prometheus import free_port


class Component:
    """A ``python -m thanos_rs <command>`` process with an HTTP and a gRPC port."""

    def __init__(self, command: str, args: list[str], workdir: Path, name: str | None = None) -> None:
        self.command = command
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.grpc_address = f"127.0.0.1:{self.grpc_port}"
        self.args = [
            f"--http-address=127.0.0.1:{self.http_port}",
            f"--grpc-address=127.0.0.1:{self.grpc_port}",
            *args,
        ]
        self.log_path = workdir / f"{name or command}-{self.http_port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> Component:
        self.log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "thanos_rs", self.command, *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        if wait:
            self.wait_ready()
        return self

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        http.wait_ready(self.url, self.proc, self.command, timeout, self.logs)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signals the process and waits; returns its exit code."""
        if self.proc is None:
            return 0
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.proc = None
            self.log.close()
        return code

    def __enter__(self) -> Component:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.stop()

    def request(self, path: str, params: dict | list | None = None, method: str = "GET") -> tuple[int, dict]:
        """An HTTP API call; returns (status, JSON body)."""
        return http.request(self.url, path, params, method)

    def metrics(self) -> dict[tuple[str, tuple], float]:
        """The samples of ``/metrics``: ``{(name, sorted label pairs): value}``."""
        return http.metrics(self.url)

    def metric(self, name: str, **labels: str) -> float | None:
        return self.metrics().get((name, tuple(sorted(labels.items()))))

    def api(self, path: str, params: dict | list | None = None) -> dict:
        """The `data` of a successful API answer."""
        status, body = self.request(path, params)
        assert status == 200 and body["status"] == "success", (status, body)
        return body["data"]


def querier(workdir: Path, stores: list[str], *extra: str) -> Component:
    args = [f"--store={s}" for s in stores] + ["--query.replica-label=replica", *extra]
    return Component("query", args, workdir)


def sidecar(workdir: Path, prometheus_url: str, *extra: str) -> Component:
    return Component("sidecar", [f"--prometheus.url={prometheus_url}", *extra], workdir)


def store_gateway(workdir: Path, objstore_config: str, *extra: str, cache: str = "cache") -> Component:
    """A store gateway over the bucket of ``objstore_config`` (YAML), with its
    index headers in ``workdir / cache``."""
    return Component("store", [f"--objstore.config={objstore_config}", f"--data-dir={workdir / cache}", *extra],
                     workdir)


def compactor(workdir: Path, objstore_config: str, *extra: str) -> Component:
    """The compactor over the bucket of ``objstore_config``; it serves HTTP only."""
    c = Component("compact", [f"--objstore.config={objstore_config}", f"--data-dir={workdir / 'compact-data'}",
                              *extra], workdir)
    c.args.remove(f"--grpc-address={c.grpc_address}")
    return c


def compact_once(workdir: Path, objstore_config: str, *extra: str, timeout: float = 300) -> tuple[int, str]:
    """One run of the compactor without ``--wait``: its exit code and logs."""
    c = compactor(workdir, objstore_config, *extra).start(wait=False)
    code = c.proc.wait(timeout=timeout)
    c.log.close()
    return code, c.logs()


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line mentions ``text`` (the demo's folder or ports)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(pid))
    return found
