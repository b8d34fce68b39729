"""The targets page in a real headless browser, over an HA pair of real
Prometheus 2.42 servers scraping each other and a target that is down: each
target shown once (deduplicated by the replica label), by scrape pool, with
its health, and the unhealthy filter."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from support.browser import chrome, wait_for
from support.components import querier, sidecar
from support.prometheus import PrometheusServer, free_port

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    work = tmp_path_factory.mktemp("targets-ui")
    ports = [free_port(), free_port()]
    scrape = [
        {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in ports]}]},
        {"job_name": "broken", "static_configs": [{"targets": ["127.0.0.1:1"]}]},
    ]
    proms = [PrometheusServer(work, f"prom{r}", external_labels={"cluster": "eu", "replica": str(r)},
                              scrape_configs=scrape, port=ports[r]) for r in (0, 1)]
    sidecars, driver = [], None
    try:
        for p in proms:
            p.start()
        for p in proms:
            sidecars.append(sidecar(work, p.url).start())
        # Until both have scraped every target once.
        deadline = time.monotonic() + 30
        while any(t["health"] == "unknown" for p in proms for t in p.api("/api/v1/targets")["activeTargets"]):
            assert time.monotonic() < deadline, "Prometheus did not scrape"
            time.sleep(0.3)
        driver = chrome()
        with querier(work, [s.grpc_address for s in sidecars]) as q:
            deadline = time.monotonic() + 30
            # Every target seen, and scraped once: an unscraped one is "unknown".
            while sorted(t["health"] for t in q.api("/api/v1/targets")["activeTargets"]) != ["down", "up", "up"]:
                assert time.monotonic() < deadline, "querier did not see the sidecars' scraped targets"
                time.sleep(0.3)
            yield q, driver, ports
    finally:
        if driver is not None:
            driver.quit()
        for s in sidecars:
            s.stop()
        for p in proms:
            p.stop()


def test_targets_page_shows_each_target_once_by_pool(page):
    q, driver, ports = page
    driver.get(f"{q.url}/targets")
    rows = wait_for(driver, "tr.target", count=3)
    by_url = {r.find_element(By.CSS_SELECTOR, ".endpoint").text: r for r in rows}
    assert set(by_url) == {f"http://127.0.0.1:{p}/metrics" for p in ports} | {"http://127.0.0.1:1/metrics"}
    for p in ports:
        row = by_url[f"http://127.0.0.1:{p}/metrics"]
        assert "UP" in row.text and 'cluster="eu"' in row.text and "replica=" not in row.text
    broken = by_url["http://127.0.0.1:1/metrics"]
    assert "DOWN" in broken.text and "connection refused" in broken.find_element(By.CSS_SELECTOR, ".error").text
    pools = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "h2.pool")]
    assert pools == ["broken (0/1 up)", "prometheus (2/2 up)"]
    assert driver.find_element(By.CSS_SELECTOR, "a.active").text == "Targets"


def test_only_unhealthy_filter(page):
    q, driver, _ = page
    driver.get(f"{q.url}/targets")
    wait_for(driver, "tr.target", count=3)
    driver.find_element(By.ID, "unhealthy").click()
    (row,) = wait_for(driver, "tr.target", count=1)
    assert row.find_element(By.CSS_SELECTOR, ".endpoint").text == "http://127.0.0.1:1/metrics"
