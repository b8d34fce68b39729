"""The README's tutorial, run as written against the demo: every fenced
snippet whose info string says ``demo`` (```` ```sh demo ````, ```` ```python
demo ````) is read from README.md, so that the two cannot drift, and run in
order; the demo runs on free ports, and the snippets' default ports are
mapped to them. Between snippets, what the README says happens is checked:
stopping one Prometheus through its lifecycle API leaves its sidecar
running, not ready and shown DOWN with the reason (in the API, and on the
stores page in a headless Chromium), while us1 answers in full through the
other replica."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from selenium.webdriver.common.by import By

from support.browser import chrome, wait_for
from support.demo import demo as start_demo
from support.storeapi import wait_until
from thanos_rs.demo.topology import Ports

pytestmark = pytest.mark.prometheus

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w+)[ \t]+([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def snippets() -> list[tuple[str, str]]:
    """(language, code) of the README's snippets marked ``demo``, in order."""
    return [(lang, code) for lang, info, code in FENCE.findall(README.read_text()) if "demo" in info.split()]


def port_map(ports: dict[str, list[int]]) -> dict[int, int]:
    """The demo's default ports to the test demo's."""
    default = Ports()
    pairs = [
        *zip(default.prometheus, ports["prometheus"]), *zip(default.sidecar_grpc, ports["sidecar-grpc"]),
        *zip(default.sidecar_http, ports["sidecar-http"]), (default.query_http, ports["query-http"][0]),
        (default.query_grpc, ports["query-grpc"][0]), (default.exporter, ports["exporter"][0]),
    ]
    return dict(pairs)


def localized(code: str, mapping: dict[int, int]) -> str:
    return re.sub(r"127\.0\.0\.1:(\d+)\b", lambda m: f"127.0.0.1:{mapping.get(int(m[1]), int(m[1]))}", code)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def ready_status(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_the_snippets_are_marked():
    found = snippets()
    langs = [lang for lang, _ in found]
    assert langs.count("sh") >= 4 and langs.count("python") == 1, langs
    assert any("/-/quit" in code for _, code in found)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prometheus_binaries):
    with start_demo(tmp_path_factory.mktemp("readme")) as d:
        yield d


def test_the_readme_runs_as_written(demo, tmp_path):
    mapping = port_map(demo.ports)
    base = demo.query_url
    for lang, code in snippets():
        code = localized(code, mapping)
        argv = ["bash", "-euo", "pipefail", "-c", code] if lang == "sh" else [sys.executable, "-c", code]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
        assert out.returncode == 0, (code, out.stdout, out.stderr)

        if "dedup=false" in code:
            assert len(json.loads(out.stdout)["data"]["result"]) == 5, "the demo says ready once scraped"
        if "/-/quit" in code:
            check_one_prometheus_stopped(demo, base)
        if "classic/config" in code:
            assert int(out.stdout.splitlines()[0]) >= 1, out.stdout
            assert "thanos_sidecar_prometheus_up 1" in out.stdout
        if lang == "python":
            lines = out.stdout.splitlines()
            assert len(lines) == 2 and all("'cluster'" in ln for ln in lines), out


def check_one_prometheus_stopped(demo, base: str) -> None:
    """Only the Prometheus stopped; its sidecar runs on, not ready, and the
    querier shows why while us1 still answers through replica 0."""
    prom, side_grpc = demo.ports["prometheus"][2], demo.ports["sidecar-grpc"][2]
    side = f"http://127.0.0.1:{demo.ports['sidecar-http'][2]}"
    wait_until(lambda: "Prometheus us1 replica 1 exited with code 0" in demo.output(), timeout=30)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{prom}/-/ready", timeout=5)

    def reason() -> str | None:
        stores = get(f"{base}/api/v1/stores")["data"]["sidecar"]
        (entry,) = [s for s in stores if s["name"] == f"127.0.0.1:{side_grpc}"]
        return entry["lastError"]

    # The querier's poll comes every 5 s; the sidecar notices at that call.
    down = wait_until(reason, timeout=12)
    assert "Prometheus is down" in down, down
    assert ready_status(side) == 503
    check_stores_page(base, f"127.0.0.1:{side_grpc}")
    assert "sidecar of us1 replica 1 exited" not in demo.output()
    # us1 still whole, from replica 0 (whose scrapes of the stopped server
    # now fail: its own series end there, as they should).
    q = urllib.parse.urlencode({"query": 'count by (cluster) (up{job=~"app.*"})'})
    body = get(f"{base}/api/v1/query?{q}")
    assert {s["metric"]["cluster"]: s["value"][1] for s in body["data"]["result"]} == {"eu1": "20", "us1": "20"}
    assert any(f"127.0.0.1:{side_grpc}" in w and "Prometheus is down" in w for w in body["warnings"])


def check_stores_page(base: str, down_address: str) -> None:
    """What the README says the stores page shows: that sidecar DOWN with
    the reason, the two others UP."""
    driver = chrome()
    try:
        driver.get(f"{base}/stores")
        rows = wait_for(driver, "tr.store", count=3)
        by_address = {r.find_element(By.CSS_SELECTOR, ".endpoint").text: r.text for r in rows}
        assert set(by_address) >= {down_address}, by_address
        for address, text in by_address.items():
            if address == down_address:
                assert "DOWN" in text and "Prometheus is down" in text, text
            else:
                assert "UP" in text and "DOWN" not in text, text
    finally:
        driver.quit()
