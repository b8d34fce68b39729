"""``python -m thanos_rs demo --objstore``: the tutorial with long-term
storage. The sidecars' shippers upload the backfilled blocks to the demo's
bucket, the store gateway serves them, the querier's stores page lists it,
and ``tools bucket ls`` sees the blocks; Ctrl-C stops the store gateway too."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from support.demo import demo as start_demo
from support.storeapi import wait_until
from support.storeclient import RE, StoreClient

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prometheus_binaries):
    with start_demo(tmp_path_factory.mktemp("demo-objstore"), history="3h", objstore=True) as d:
        yield d


def bucket_blocks(d) -> list[str]:
    config = d.work / "run" / "bucket.yml"
    out = subprocess.run([sys.executable, "-m", "thanos_rs", "tools", "bucket", "ls",
                          f"--objstore.config-file={config}"], check=True, capture_output=True, text=True)
    return out.stdout.split()


def test_the_history_goes_up_and_the_store_gateway_serves_it(demo):
    assert "Bucket:" in demo.output() and "ready: store gateway" in demo.output()
    # 3 h of history in 2 h blocks, for each of the three Prometheus servers.
    blocks = wait_until(lambda: len(bucket_blocks(demo)) >= 6 and bucket_blocks(demo), timeout=60)
    with urllib.request.urlopen(f"{demo.query_url}/api/v1/stores", timeout=10) as r:
        stores = json.load(r)["data"]
    (store,) = stores["store"]
    assert store["lastError"] is None
    client = StoreClient(f"127.0.0.1:{demo.ports['store'][0]}")
    try:
        # The store gateway syncs every 30 s: the history arrives within one sync.
        old = (time.time() - 2.5 * 3600) * 1000
        # Each Prometheus's shipper uploads on its own: wait for all three
        # sources, not just the first to finish.
        expected = {("eu1", "0"), ("us1", "0"), ("us1", "1")}
        seen: set[tuple[str, str]] = set()

        def every_prometheus():
            found = client.samples([(RE, "job", "app.*")], 0, int(old))
            seen.update((dict(labels)["cluster"], dict(labels)["replica"]) for labels in found)
            return seen == expected

        try:
            wait_until(every_prometheus, timeout=120)
        except TimeoutError:
            pytest.fail(f"the store gateway serves history from {sorted(seen)}, not {sorted(expected)}")
    finally:
        client.close()
    assert len(blocks) >= 6

