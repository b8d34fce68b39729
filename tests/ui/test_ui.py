"""The web UI in a real headless browser: the graph page runs a query, shows
the tutorial's 3 series with deduplication and 5 without, draws the graph
(flat series and single points too), keeps its state in the URL; the stores
page lists the stores UP with their labels and time ranges. Screenshots land in the test's folder
(and in ``$THANOS_RS_SCREENSHOTS`` when set)."""

from __future__ import annotations

import os
import shutil
import time
import urllib.parse
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from support.browser import chrome, wait_for
from support.components import querier
from support.storeapi import FakeStore

def head_series(instances: list[str], now: float) -> dict:
    """prometheus_tsdb_head_series of the given Prometheus instances, the hour
    before ``now``, every 15 s. The pages query at the present, so ``now`` is
    when the stores start, not when this module was imported: the suite may
    reach these tests more than a lookback delta (5 min) after collection."""
    start = int(now - 3600) * 1000
    return {
        (("__name__", "prometheus_tsdb_head_series"), ("instance", i), ("job", "prometheus")): [
            (start + k * 15000, 400.0 + n * 10 + k % 7) for k in range(240)
        ]
        for n, i in enumerate(instances)
    }


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    """The tutorial's shape: eu1 scraping itself; the us1 pair scraping both."""
    work = tmp_path_factory.mktemp("ui")
    now = time.time()
    us1 = head_series(["127.0.0.1:9091", "127.0.0.1:9092"], now)
    stores = [
        FakeStore(head_series(["127.0.0.1:9090"], now), {"cluster": "eu1", "replica": "0"}),
        FakeStore(us1, {"cluster": "us1", "replica": "0"}),
        FakeStore(us1, {"cluster": "us1", "replica": "1"}),
    ]
    for s in stores:
        s.start()
    driver = chrome()
    try:
        with querier(work, [s.address for s in stores]) as q:
            yield q, driver, stores, work
    finally:
        driver.quit()
        for s in stores:
            s.stop()


def screenshot(driver, work: Path, name: str) -> None:
    path = work / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("THANOS_RS_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["THANOS_RS_SCREENSHOTS"]) / path.name)


def test_query_with_and_without_dedup(tutorial):
    q, driver, _, work = tutorial
    driver.get(f"{q.url}/graph")
    expr = wait_for(driver, ".expression-input")[0]
    expr.send_keys("prometheus_tsdb_head_series")
    driver.find_element(By.CSS_SELECTOR, ".tab-table").click()
    driver.find_element(By.CSS_SELECTOR, ".execute-btn").click()
    rows = wait_for(driver, "tr.result-row td.series", count=3)
    assert 'prometheus_tsdb_head_series{cluster="eu1", instance="127.0.0.1:9090", job="prometheus"}' in [
        r.text for r in rows
    ]
    assert all("replica" not in r.text for r in rows)
    screenshot(driver, work, "graph-table-dedup")

    driver.find_element(By.CSS_SELECTOR, ".dedup-checkbox").click()
    rows = wait_for(driver, "tr.result-row td.series", count=5)
    assert sum('replica="1"' in r.text for r in rows) == 2
    params = urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query)
    assert params["g0.expr"] == ["prometheus_tsdb_head_series"]
    assert params["g0.tab"] == ["1"] and params["g0.deduplicate"] == ["0"]
    screenshot(driver, work, "graph-table-no-dedup")


def test_graph_is_drawn_with_a_legend(tutorial):
    q, driver, _, work = tutorial
    query = urllib.parse.urlencode({"g0.expr": "sum by (cluster) (prometheus_tsdb_head_series)", "g0.tab": "0",
                                    "g0.range_input": "30m"})
    driver.get(f"{q.url}/graph?{query}")
    paths = wait_for(driver, "path.series", count=2)
    assert all(len(p.get_attribute("d")) > 100 for p in paths), "lines with many points"
    legend = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".legend-item")]
    assert legend == ['{cluster="eu1"}', '{cluster="us1"}']
    screenshot(driver, work, "graph")


def test_a_link_reproduces_two_panels(tutorial):
    q, driver, _, _ = tutorial
    query = urllib.parse.urlencode({
        "g0.expr": "count(prometheus_tsdb_head_series)", "g0.tab": "1",
        "g1.expr": "count(prometheus_tsdb_head_series)", "g1.tab": "1", "g1.deduplicate": "0",
    })
    driver.get(f"{q.url}/graph?{query}")
    wait_for(driver, ".panel", count=2)
    values = wait_for(driver, "tr.result-row td.value", count=2)
    assert [v.text for v in values] == ["3", "5"]


def test_errors_and_completion(tutorial):
    q, driver, _, _ = tutorial
    driver.get(f"{q.url}/graph?g0.tab=1")
    expr = wait_for(driver, ".expression-input")[0]
    expr.send_keys("sum(")
    expr.send_keys(Keys.ENTER)
    error = wait_for(driver, ".alert.error")[0]
    assert error.text == "Error executing query: invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"
    expr.clear()
    time.sleep(0.5)  # the metric names load once the page is up
    expr.send_keys("prometheus_tsdb_h")
    suggestion = wait_for(driver, ".autocomplete li")[0]
    assert suggestion.text == "prometheus_tsdb_head_series"
    expr.send_keys(Keys.TAB)
    assert expr.get_attribute("value") == "prometheus_tsdb_head_series"


def test_flat_and_partial_series_are_drawn(tutorial, tmp_path):
    """A constant series over part of the range is a line mid-chart between
    distinct ticks (no longer the same label five times and the line on the
    edge), and a series present at one step only is a dot."""
    _, driver, _, work = tutorial
    now = time.time()
    flat_from = int(now - 3600) * 1000
    store = FakeStore({
        (("__name__", "walk_flat"), ("job", "a")): [(flat_from + k * 15000, 1234.0) for k in range(240)],
        (("__name__", "walk_single"), ("job", "b")): [(int(now - 3 * 3600) * 1000, 1234.0)],
    }, {"cluster": "eu1", "replica": "0"}).start()
    try:
        with querier(tmp_path, [store.address]) as q:
            query = urllib.parse.urlencode({"g0.expr": '{__name__=~"walk_.*"}', "g0.tab": "0",
                                            "g0.range_input": "6h", "g0.step_input": "600"})
            driver.get(f"{q.url}/graph?{query}")
            paths = wait_for(driver, "path.series", count=2)
            screenshot(driver, work, "graph-flat")
            by_name = dict(zip([e.text for e in driver.find_elements(By.CSS_SELECTOR, ".legend-item")], paths))
            flat = by_name['walk_flat{cluster="eu1", job="a"}'].get_attribute("d")
            single = by_name['walk_single{cluster="eu1", job="b"}'].get_attribute("d")
            # The last hour at 10 min steps: one stroke of 6 or 7 points, in the
            # last sixth of the plot; the other, one point: a dot.
            points = [tuple(map(float, p.split(","))) for p in flat.replace("L", " ").replace("M", " ").split()]
            assert flat.count("M") == 1 and 5 <= flat.count("L") <= 6
            assert single.count("M") == 1 and "L" not in single
            (dot,) = driver.find_elements(By.CSS_SELECTOR, "circle.point")
            ticks = driver.find_elements(By.CSS_SELECTOR, "text.y-tick")
            labels = [t.text for t in ticks]
            assert len(labels) >= 3 and len(set(labels)) == len(labels), labels
            tick_y = [float(t.get_attribute("y")) - 4 for t in ticks]
            assert len({y for _, y in points}) == 1
            assert min(tick_y) < points[0][1] < max(tick_y), "the line lies inside the value axis, not on its edge"
            assert float(dot.get_attribute("cy")) == pytest.approx(points[0][1], abs=0.11)
            xs = [x for x, _ in points]
            plot = driver.find_element(By.CSS_SELECTOR, ".chart svg").get_dom_attribute("viewBox").split()
            assert xs[0] > float(plot[2]) * 0.75 and float(dot.get_attribute("cx")) < float(plot[2]) * 0.6
    finally:
        store.stop()


def test_stores_page(tutorial):
    q, driver, stores, work = tutorial
    driver.get(f"{q.url}/stores")
    rows = wait_for(driver, "tr.store", count=3)
    by_address = {r.find_element(By.CSS_SELECTOR, ".endpoint").text: r for r in rows}
    for s in stores:
        row = by_address[s.address]
        assert "UP" in row.text
        for k, v in s.external.items():
            assert f'{k}="{v}"' in row.text
        mint, maxt = s.time_range()
        shown = [row.find_element(By.CSS_SELECTOR, c).text for c in (".min-time", ".max-time")]
        assert shown == [time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t // 1000)) for t in (mint, maxt)]
    screenshot(driver, work, "stores")


class OpenEnded(FakeStore):
    """A store announcing no upper bound, as a sidecar does."""

    def time_range(self) -> tuple[int, int]:
        return super().time_range()[0], 2**63 - 1


def test_stores_page_shows_open_ranges(tutorial, tmp_path):
    _, driver, _, _ = tutorial
    store = OpenEnded(head_series(["127.0.0.1:9090"], time.time()), {"cluster": "eu1", "replica": "0"}).start()
    try:
        with querier(tmp_path, [store.address]) as q:
            driver.get(f"{q.url}/stores")
            (row,) = wait_for(driver, "tr.store", count=1)
            low, high = (row.find_element(By.CSS_SELECTOR, c) for c in (".min-time", ".max-time"))
            assert low.text == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(store.time_range()[0] // 1000))
            # As Thanos's page: a dash, and its words in the tooltip.
            assert high.text == "-" and high.get_attribute("title") == "This store has no maximum time limit"
    finally:
        store.stop()


def test_partial_response_starts_from_the_querier_default(tutorial, tmp_path):
    """One default for the switch and the API: ``--query.partial-response``."""
    q, driver, stores, _ = tutorial
    driver.get(f"{q.url}/graph")
    (box,) = wait_for(driver, ".partial-response-checkbox")
    assert box.is_selected()
    with querier(tmp_path, [stores[0].address], "--no-query.partial-response") as strict:
        driver.get(f"{strict.url}/graph")
        (box,) = wait_for(driver, ".partial-response-checkbox")
        assert not box.is_selected()
        driver.find_element(By.CSS_SELECTOR, ".execute-btn").click()
        params = urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query)
        assert params["g0.partial_response"] == ["0"]


def test_max_resolution_reaches_the_stores(tutorial):
    """Thanos's Max Resolution control: kept in the URL
    (``g0.max_source_resolution``), sent with the graph's range queries, and
    passed to the stores as their calls' ``max_resolution_window``."""
    q, driver, stores, _ = tutorial
    query = urllib.parse.urlencode({"g0.expr": "prometheus_tsdb_head_series", "g0.tab": "0",
                                    "g0.max_source_resolution": "1h"})
    driver.get(f"{q.url}/graph?{query}")
    (control,) = wait_for(driver, "select.max-source-resolution")
    assert [o.text for o in Select(control).options] == [
        "Auto downsampling", "Only raw data", "Max 5m downsampling", "Max 1h downsampling"]
    assert Select(control).first_selected_option.get_attribute("value") == "1h"
    wait_for(driver, "path.series", count=3)
    assert stores[0].requests[-1].max_resolution_window == 3_600_000
    Select(control).select_by_value("5m")
    deadline = time.monotonic() + 10
    while stores[0].requests[-1].max_resolution_window != 300_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stores[0].requests[-1].max_resolution_window == 300_000
    params = urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query)
    assert params["g0.max_source_resolution"] == ["5m"]
