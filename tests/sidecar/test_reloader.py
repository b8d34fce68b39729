"""The reloader inside a running sidecar, with a real Prometheus reading the
file the reloader writes: ``$(VAR)`` substitution, gzipped input, rule
directory changes, reloads that fail and are retried, and broken or missing
files that are reported without stopping anything. Success is Prometheus's
own ``/api/v1/status/config`` and ``/api/v1/rules`` changing."""

from __future__ import annotations

import asyncio
import gzip
import os

import pytest
from prometheus_client import CollectorRegistry

from support.components import sidecar
from support.prometheus import PrometheusServer
from support.storeapi import wait_until
from thanos_rs.sidecar.reloader import Reloader, ReloaderError, expand_env

TEMPLATE = """\
global:
  scrape_interval: {interval}
  evaluation_interval: 1s
  external_labels:
    cluster: $(RELOADER_TEST_CLUSTER)
    replica: "0"
rule_files:
  - {rules}/*.yml
"""

RULES = """\
groups:
  - name: {name}
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
"""


def metric(side, name: str) -> float:
    return side.metric(f"thanos_sidecar_reloader_{name}") or 0.0


@pytest.mark.prometheus
def test_reloader_keeps_prometheus_on_the_latest_files(tmp_path, monkeypatch, prometheus_binaries):
    monkeypatch.setenv("RELOADER_TEST_CLUSTER", "eu1")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yml").write_text(RULES.format(name="first"))
    source, output = tmp_path / "prometheus.yml.in", tmp_path / "prometheus.yml"
    source.write_text(TEMPLATE.format(interval="1s", rules=rules))
    prom = PrometheusServer(tmp_path)
    prom.config_file = output

    def config() -> str:
        return prom.api("/api/v1/status/config")["yaml"]

    def groups() -> list[str]:
        return sorted(g["name"] for g in prom.api("/api/v1/rules")["groups"])

    side = sidecar(
        tmp_path, prom.url, f"--reloader.config-file={source}", f"--reloader.config-envsubst-file={output}",
        f"--reloader.rule-dir={rules}", "--reloader.watch-interval=1m", "--reloader.retry-interval=200ms",
        "--prometheus.get_config_interval=1s",
    ).start(wait=False)
    try:
        # The substituted file is written at once, whole (no temporary left)...
        wait_until(lambda: output.exists() and "cluster: eu1" in output.read_text(), timeout=20)
        assert "$(" not in output.read_text()
        assert not (tmp_path / "prometheus.yml.tmp").exists()
        # ...and the reload is retried while Prometheus is not there yet.
        wait_until(lambda: _http_up(side) and metric(side, "reloads_failed_total") >= 2, timeout=20)
        assert metric(side, "last_reload_successful") == 0
        prom.start()
        side.wait_ready(timeout=30)
        wait_until(lambda: metric(side, "last_reload_successful") == 1, timeout=10)
        assert "Failed to trigger reload. Retrying." in side.logs()
        assert groups() == ["first"]

        # An edit reaches Prometheus without waiting for the 1 minute tick.
        source.write_text(TEMPLATE.format(interval="7s", rules=rules))
        wait_until(lambda: "scrape_interval: 7s" in config(), timeout=10)

        # So do rule changes.
        (rules / "b.yml").write_text(RULES.format(name="second"))
        wait_until(lambda: groups() == ["first", "second"], timeout=10)
        (rules / "a.yml").unlink()
        wait_until(lambda: groups() == ["second"], timeout=10)

        # A gzipped source is unpacked.
        source.write_bytes(gzip.compress(TEMPLATE.format(interval="9s", rules=rules).encode()))
        wait_until(lambda: "scrape_interval: 9s" in config(), timeout=10)
        assert "scrape_interval: 9s" in output.read_text()

        # An unset variable: nothing is written, nothing reloaded, the error said.
        applies_failed = metric(side, "config_apply_operations_failed_total")
        before = output.read_text()
        source.write_text(TEMPLATE.format(interval="11s", rules=rules).replace("RELOADER_TEST_CLUSTER", "NOT_SET_X"))
        wait_until(lambda: metric(side, "config_apply_operations_failed_total") > applies_failed, timeout=10)
        assert output.read_text() == before
        assert 'found reference to unset environment variable \\"NOT_SET_X\\"' in side.logs()

        # A config Prometheus rejects: its reload fails, and is retried until
        # the file is fixed.
        reload_failures = metric(side, "reloads_failed_total")
        source.write_text(TEMPLATE.format(interval="not-a-duration", rules=rules))
        wait_until(lambda: metric(side, "reloads_failed_total") > reload_failures + 1, timeout=10)
        assert metric(side, "last_reload_successful") == 0
        assert "scrape_interval: 9s" in config()
        source.write_text(TEMPLATE.format(interval="13s", rules=rules))
        wait_until(lambda: "scrape_interval: 13s" in config(), timeout=10)
        wait_until(lambda: metric(side, "last_reload_successful") == 1, timeout=10)

        # A missing source is an error to report, not a reason to stop.
        applies_failed = metric(side, "config_apply_operations_failed_total")
        source.unlink()
        wait_until(lambda: metric(side, "config_apply_operations_failed_total") > applies_failed, timeout=10)
        assert side.proc.poll() is None
        source.write_text(TEMPLATE.format(interval="15s", rules=rules))
        wait_until(lambda: "scrape_interval: 15s" in config(), timeout=10)
        assert metric(side, "watches") == 2
        assert metric(side, "watch_events_total") > 0
        assert metric(side, "reloads_total") > metric(side, "reloads_failed_total") > 0
    finally:
        assert side.stop() == 0
        prom.stop()


def _http_up(side) -> bool:
    try:
        side.metrics()
        return True
    except OSError:
        return False


@pytest.mark.prometheus
def test_the_watch_interval_alone_finds_changes(tmp_path, prometheus_binaries):
    """Changes made where no file event reaches the reloader (here: a rule
    folder created after start) are found at the next tick."""
    rules = tmp_path / "later"
    with PrometheusServer(tmp_path, external_labels={"cluster": "eu1"}) as prom:
        prom.config_file.write_text(prom.config_file.read_text() + f"rule_files:\n  - {rules}/*.yml\n")
        side = sidecar(tmp_path, prom.url, f"--reloader.config-file={prom.config_file}",
                       f"--reloader.rule-dir={rules}", "--reloader.watch-interval=1s").start()
        try:
            wait_until(lambda: "build hash" in side.logs(), timeout=10)
            rules.mkdir()
            (rules / "r.yml").write_text(RULES.format(name="late"))
            wait_until(lambda: [g["name"] for g in prom.api("/api/v1/rules")["groups"]] == ["late"], timeout=15)
        finally:
            assert side.stop() == 0


def test_substitution_only_when_the_watch_interval_is_zero(tmp_path):
    """``--reloader.watch-interval=0``: the output is written once and
    Prometheus is never asked to reload."""
    source, output = tmp_path / "in.yml", tmp_path / "out.yml"
    source.write_bytes(gzip.compress(b"a: $(HOME)\nb: ${1} $HOME\n"))

    async def reload() -> None:
        raise AssertionError("no reload without watching")

    reloader = Reloader(reload, CollectorRegistry(), config_file=str(source), config_envsubst_file=str(output),
                        watch_interval=0)
    asyncio.run(asyncio.wait_for(reloader.run(asyncio.Event()), 5))
    assert output.read_text() == f"a: {os.environ['HOME']}\nb: ${{1}} $HOME\n"
    assert oct(output.stat().st_mode & 0o777) == "0o644"


def test_expand_env_is_kubernetes_style_only():
    env = {"A": "x", "B_2": ""}
    assert expand_env(b"$(A)-$(B_2)-$A-${A}-$(", env) == b"x--$A-${A}-$("
    with pytest.raises(ReloaderError, match='found reference to unset environment variable "C"'):
        expand_env(b"$(A) $(C)", env)
