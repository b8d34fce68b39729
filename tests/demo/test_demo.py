"""``python -m thanos_rs demo`` end to end, on free ports: every component
becomes ready; the tutorial's queries give the tutorial's answers (3 series
with deduplication, 5 without, one sum); each sidecar's
``thanos_sidecar_prometheus_up`` is 1 as its Prometheus scrapes it; the
synthetic series go on live past the backfilled history; an edited
Prometheus config reaches Prometheus through the sidecar's reloader; the UI
shows it all in a real browser; and Ctrl-C leaves no process behind."""

from __future__ import annotations

import calendar
import json
import re
import signal
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By

from support.browser import chrome, wait_for
from support.components import processes_mentioning
from support.demo import demo as start_demo
from support.storeapi import wait_until

pytestmark = pytest.mark.prometheus


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prometheus_binaries):
    with start_demo(tmp_path_factory.mktemp("demo")) as d:
        yield d.proc, d.ports, d.work, d.output


def query(ports, expr: str, **params) -> list:
    q = urllib.parse.urlencode({"query": expr, **params})
    return get(f"http://127.0.0.1:{ports['query-http'][0]}/api/v1/query?{q}")["data"]["result"]


def test_the_tutorial_answers(demo):
    _, ports, _, output = demo
    assert "Querier UI:" in output() and "ready: querier" in output()
    # At once: the demo says ready once each Prometheus has scraped itself and
    # the pair each other (every 15 s), not before.
    deduped = query(ports, "prometheus_tsdb_head_series")
    assert {(s["metric"]["cluster"], s["metric"]["instance"]) for s in deduped} == {
        ("eu1", f"127.0.0.1:{ports['prometheus'][0]}"),
        ("us1", f"127.0.0.1:{ports['prometheus'][1]}"),
        ("us1", f"127.0.0.1:{ports['prometheus'][2]}"),
    }
    everything = query(ports, "prometheus_tsdb_head_series", dedup="false")
    assert sorted(s["metric"]["replica"] for s in everything) == ["0", "0", "0", "1", "1"]
    (total,) = query(ports, "sum(prometheus_tsdb_head_series)")
    assert total["metric"] == {} and float(total["value"][1]) > 0
    # The backfilled history is there too, deduplicated.
    (apps,) = query(ports, 'count(count by (cluster, instance) (up{job=~"app.*"}))', time=time.time() - 1800)
    assert apps["value"][1] == "40"


def test_the_synthetic_series_go_on_live(demo):
    """From the history's last values, scraped: no drop to zero at the demo's
    start, no counter reset there, and each target up."""
    _, ports, _, _ = demo
    (live,) = query(ports, f'count(timestamp(up{{job=~"app.*"}}) > {time.time() - 60})')
    assert live["value"][1] == "40"
    now = time.time()
    params = {"query": "sum by (cluster) (node_memory_used_bytes)", "start": now - 3600, "end": now, "step": 60}
    base = f"http://127.0.0.1:{ports['query-http'][0]}"
    series = get(f"{base}/api/v1/query_range?{urllib.parse.urlencode(params)}")["data"]["result"]
    assert len(series) == 2
    for s in series:
        values = [float(v) for _, v in s["values"]]
        assert len(values) == 61, "a point at every step, the last hour and the live part alike"
        assert max(values) < 1.5 * min(values), "a random walk, not a drop"
    assert query(ports, 'sum(resets(http_requests_total{code="500"}[20m]))')[0]["value"][1] == "0"
    # A rate needs two samples in its minute: the history's last one is out of
    # it when the demo took long to start, so wait for the second live scrape
    # of every target by every Prometheus (20 in eu1, 20 twice in us1).
    wait_until(lambda: len(query(ports, 'count_over_time(up{job=~"app.*"}[1m]) > 1', dedup="false")) == 60, 60)
    (rate,) = query(ports, "sum(rate(http_requests_total[1m]))")
    assert float(rate["value"][1]) > 0


def test_the_printed_pids_are_each_prometheus_and_its_sidecar(demo):
    """The README's other way to stop one Prometheus alone: `kill` with the
    PID the demo printed, which is that Prometheus's, not its sidecar's
    (whose command line names the same URL, so `pkill -f` would stop both)."""
    _, ports, _, output = demo
    printed = re.findall(r"Prometheus \w+/\d: http://[\d.]+:(\d+) \(pid (\d+), its sidecar's (\d+)\)", output())
    assert sorted(int(port) for port, _, _ in printed) == sorted(ports["prometheus"]), output()
    for port, prom_pid, sidecar_pid in printed:
        prom = Path(f"/proc/{prom_pid}/cmdline").read_text().split("\0")
        side = Path(f"/proc/{sidecar_pid}/cmdline").read_text().split("\0")
        assert Path(prom[0]).name == "prometheus" and f"--web.listen-address=127.0.0.1:{port}" in prom, prom
        assert "sidecar" in side and f"--prometheus.url=http://127.0.0.1:{port}" in side, side


def test_sidecars_report_prometheus_up(demo):
    _, ports, _, _ = demo
    up = wait_until(lambda: len(r := query(ports, "thanos_sidecar_prometheus_up", dedup="false")) == 5 and r,
                    timeout=60)
    assert all(s["value"][1] == "1" for s in up)
    scraped = {s["metric"]["instance"] for s in up}
    assert scraped == {f"127.0.0.1:{p}" for p in ports["sidecar-http"]}
    # The sidecars read their Prometheus's data directory (--tsdb.path), and
    # these very samples come from its head.
    direct = query(ports, "thanos_sidecar_tsdb_direct_read", dedup="false")
    assert len(direct) == 5 and all(s["value"][1] == "1" for s in direct)


def test_a_config_change_reaches_prometheus_through_the_reloader(demo):
    _, ports, work, _ = demo
    config_file = work / "run" / "prometheus0_eu1" / "prometheus.yml"
    config = yaml.safe_load(config_file.read_text())
    config["scrape_configs"].append({"job_name": "added-by-test", "static_configs": [{"targets": ["127.0.0.1:1"]}]})
    config_file.write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{ports['prometheus'][0]}/api/v1/status/config"
    wait_until(lambda: "added-by-test" in get(url)["data"]["yaml"], timeout=30)


def test_the_ui_shows_the_dedup_demonstration(demo):
    _, ports, work, _ = demo
    base = f"http://127.0.0.1:{ports['query-http'][0]}"
    driver = chrome()
    try:
        driver.get(f"{base}/graph?" + urllib.parse.urlencode({"g0.expr": "prometheus_tsdb_head_series", "g0.tab": "1"}))
        wait_for(driver, "tr.result-row", count=3)
        driver.save_screenshot(str(work / "demo-dedup.png"))
        driver.find_element(By.CSS_SELECTOR, ".dedup-checkbox").click()
        wait_for(driver, "tr.result-row", count=5)
        driver.save_screenshot(str(work / "demo-no-dedup.png"))
        # The graph's last step can be up to one resolution before now: wait until a
        # replica's first scrape is old enough to be in it.
        def graph_series() -> int:
            now = time.time()
            params = {"query": "prometheus_tsdb_head_series", "dedup": "false", "start": now - 3600, "end": now,
                      "step": 14}
            return len(get(f"{base}/api/v1/query_range?{urllib.parse.urlencode(params)}")["data"]["result"])

        wait_until(lambda: graph_series() == 5, timeout=30)
        driver.find_element(By.CSS_SELECTOR, ".tab-graph").click()
        wait_for(driver, "path.series", count=5)
        driver.get(f"{base}/stores")
        rows = wait_for(driver, "tr.store", count=3)
        assert all("UP" in r.text for r in rows)
        assert sum('cluster="us1"' in r.text for r in rows) == 2
        # From each Prometheus's oldest sample (the backfilled hour) on, open-ended.
        for r in rows:
            low, high = (r.find_element(By.CSS_SELECTOR, c) for c in (".min-time", ".max-time"))
            oldest = calendar.timegm(time.strptime(low.text, "%Y-%m-%d %H:%M:%S"))
            assert time.time() - 3 * 3600 < oldest < time.time() - 3000, low.text
            assert high.text == "-" and high.get_attribute("title") == "This store has no maximum time limit"
        driver.save_screenshot(str(work / "demo-stores.png"))
    finally:
        driver.quit()


def test_ctrl_c_leaves_nothing_behind(demo):
    proc, ports, work, output = demo
    run_dir = str(work / "run")
    children = processes_mentioning(run_dir)
    assert len(children) >= 7, "three Prometheus, three sidecars and the exporter mention the folder"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert "Stopped." in output()
    wait_until(lambda: not processes_mentioning(run_dir), timeout=15)
    for port in ports["prometheus"] + ports["query-http"]:
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2)
