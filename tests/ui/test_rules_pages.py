"""The alerts and rules pages in a real headless browser, over an HA pair of
real Prometheus 2.42 servers with a recording rule and an always-firing alert,
each behind a sidecar: each rule and alert shows once, deduplicated."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from support.browser import chrome, wait_for
from support.components import querier, sidecar
from support.prometheus import RULES_ALWAYS_FIRING, PrometheusServer
from support.rules import wait_for as wait_until

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules-ui")
    proms = [PrometheusServer(root, f"prom{r}", external_labels={"cluster": "eu", "replica": str(r)},
                              rule_groups=RULES_ALWAYS_FIRING, rule_file=root / "rules.yml") for r in (0, 1)]
    sidecars = []
    driver = chrome()
    try:
        for p in proms:
            p.start()
        sidecars = [sidecar(root, p.url).start() for p in proms]
        with querier(root, [s.grpc_address for s in sidecars]) as q:
            wait_until(lambda: len(q.api("/api/v1/alerts", {"dedup": "false"})["alerts"]) == 2,
                       what="both replicas' alerts")
            yield q, driver, root
    finally:
        driver.quit()
        for s in sidecars:
            s.stop()
        for p in proms:
            p.stop()


def test_rules_page(ui):
    q, driver, root = ui
    driver.get(f"{q.url}/rules")
    (group,) = wait_for(driver, ".group")
    assert group.find_element(By.CSS_SELECTOR, ".group-name").text == f"{root / 'rules.yml'} > example"
    rules = wait_for(driver, "tr.rule", count=2)
    definitions = [r.find_element(By.CSS_SELECTOR, ".rule-def").text for r in rules]
    assert definitions[0].startswith("alert: AlwaysFiring\nexpr: vector(1)\nlabels:\n  cluster: \"eu\"")
    assert definitions[1].startswith("record: job:ones:sum\nexpr: sum(vector(1))")
    assert all("replica" not in d for d in definitions)
    assert [r.find_element(By.CSS_SELECTOR, ".health").text for r in rules] == ["OK", "OK"]
    driver.save_screenshot(str(root / "rules.png"))


def test_alerts_page(ui):
    q, driver, root = ui
    driver.get(f"{q.url}/alerts")
    (header,) = wait_for(driver, ".alert-rule-header.firing")
    assert header.text == "AlwaysFiring (1 active)"
    assert "Firing (1)" in driver.find_element(By.CSS_SELECTOR, ".state-filter").text
    header.click()
    (row,) = wait_for(driver, "tr.alert-row")
    # The alert's own labels, as Prometheus gives them (the rule carries the cluster).
    assert 'alertname="AlwaysFiring"' in row.text and "cluster" not in row.text and "replica" not in row.text
    assert row.find_element(By.CSS_SELECTOR, ".state").text == "FIRING"
    assert row.find_element(By.CSS_SELECTOR, ".value").text == "1e+00"
    driver.save_screenshot(str(root / "alerts.png"))
    # The state filter hides firing rules.
    driver.find_element(By.CSS_SELECTOR, ".filter-firing").click()
    wait_for(driver, ".alert-rule", count=0)
