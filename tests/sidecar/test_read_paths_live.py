"""The sidecar's two read paths against each other on a real Prometheus 2.42
that is running: the head (WAL and head chunks) read from the data directory
gives exactly what remote read gives while samples arrive by remote write,
while the head is cut into a block (2-minute blocks, the hidden
``--storage.tsdb.min-block-duration`` flag) and across a restart of Prometheus
(WAL replay, a new segment); the newest committed sample is always seen."""

from __future__ import annotations

import random
import time

import pytest

from support import remote_write
from support.components import sidecar
from support.prometheus import PrometheusServer
from support.storeclient import EQ, RE, StoreClient, by_bits

pytestmark = pytest.mark.prometheus

EXTERNAL = {"cluster": "live", "replica": "0"}
#: Two-minute blocks: the head is cut once it spans three minutes.
SHORT_BLOCKS = ("--storage.tsdb.min-block-duration=2m", "--storage.tsdb.max-block-duration=2m")
SERIES = [(("__name__", f"live_metric_{m}"), ("instance", f"i{i}"), ("job", "live"))
          for m in range(5) for i in range(8)]


def samples(rnd: random.Random, start_ms: int, end_ms: int, step_ms: int = 1000) -> dict:
    return {labels: [(t, rnd.uniform(-1e3, 1e3)) for t in range(start_ms, end_ms, step_ms)] for labels in SERIES}


@pytest.fixture
def live(tmp_path):
    prom = PrometheusServer(tmp_path, external_labels=EXTERNAL, remote_write_receiver=True, extra_args=SHORT_BLOCKS)
    with prom:
        with sidecar(tmp_path, prom.url) as remote, sidecar(tmp_path, prom.url, f"--tsdb.path={prom.data}") as direct:
            clients = StoreClient(remote.grpc_address), StoreClient(direct.grpc_address)
            yield prom, clients
            for c in clients:
                c.close()


def assert_same(clients, rnd: random.Random, newest: dict) -> None:
    """Both paths answer alike for every series and for random selections, and
    the direct path has each series' newest written sample."""
    remote, direct = clients
    everything = [(RE, "__name__", "live_.+")]
    ours, theirs = direct.samples(everything), remote.samples(everything)
    assert by_bits(ours) == by_bits(theirs)
    for labels, (t, v) in newest.items():
        key = tuple(sorted((*labels, *EXTERNAL.items())))
        assert ours[key][-1] == (t, v), key
    for _ in range(10):
        matchers = [(EQ, "job", "live"), (RE, "instance", "|".join(rnd.sample([f"i{i}" for i in range(8)], 3)))]
        lo = rnd.randrange(min(t for t, _ in newest.values()) - 600_000, max(t for t, _ in newest.values()))
        hi = lo + rnd.randrange(1, 400_000)
        assert by_bits(direct.samples(matchers, lo, hi)) == by_bits(remote.samples(matchers, lo, hi)), (matchers, lo, hi)
        assert direct.label_values("instance", matchers, lo, hi) == remote.label_values("instance", matchers, lo, hi)
        assert direct.label_names(matchers, lo, hi) == remote.label_names(matchers, lo, hi)


def write(prom, data: dict) -> dict:
    """Remote-writes the samples in time order; returns each series' newest."""
    for body in remote_write.time_sliced(data, slice_ms=10_000):
        prom.remote_write([body])
    return {labels: s[-1] for labels, s in data.items()}


def blocks(prom) -> list:
    return [p for p in prom.data.iterdir() if (p / "meta.json").exists()]


def test_the_head_reads_the_same_on_both_paths_as_prometheus_runs(live):
    prom, clients = live
    rnd = random.Random(3)
    now = int(time.time() * 1000)
    # Two minutes of history: all in the head, in the WAL.
    newest = write(prom, samples(rnd, now - 300_000, now - 180_000))
    assert not blocks(prom)
    assert_same(clients, rnd, newest)
    # Three more minutes: the head spans more than 1.5 block lengths and
    # Prometheus cuts a block, then truncates the head.
    newest = write(prom, samples(rnd, now - 180_000, int(time.time() * 1000)))
    deadline = time.monotonic() + 60
    while not blocks(prom) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert blocks(prom), "Prometheus should have cut a block from the head"
    assert_same(clients, rnd, newest)
    # A restart: Prometheus replays the WAL and starts a new segment.
    segments = sorted(p.name for p in (prom.data / "wal").iterdir() if p.name.isdigit())
    prom.stop()
    prom.start()
    assert len(sorted(p.name for p in (prom.data / "wal").iterdir() if p.name.isdigit())) > len(segments)
    start = max(t for t, _ in newest.values()) + 1
    newest = write(prom, samples(rnd, start, int(time.time() * 1000) + 1))
    assert_same(clients, rnd, newest)
