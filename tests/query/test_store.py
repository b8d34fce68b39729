"""The querier's own StoreAPI streams: series go out as soon as the merge has
decided them, while a store is still sending, and the answer is the whole
merge once every store is done."""

from __future__ import annotations

import threading

from support import datasets
from support.components import querier
from support.storeapi import FakeStore, Faults
from support.storeclient import RE, StoreClient

DATA = datasets.monitoring(hours=1, jobs=2, instances=3)
EVERYTHING = [(RE, "__name__", ".+")]
START_MS, END_MS = int(DATA.start * 1000), int(DATA.end * 1000)


def test_series_go_out_while_a_store_is_still_sending(tmp_path):
    # The slow store sends its first message, then stops until the test lets
    # it go on; its last series may still continue, nothing else of it can.
    resume = threading.Event()
    slow = Faults(pause=resume, pause_after=1)
    with FakeStore(DATA.series, {"cluster": "eu1"}) as fast, \
            FakeStore(DATA.series, {"cluster": "us1"}, faults=slow) as paused:
        with querier(tmp_path, [fast.address, paused.address]) as q:
            client = StoreClient(q.grpc_address)
            try:
                request = client.series_request(EVERYTHING, START_MS, END_MS)
                # The deadline comes long before the paused store's minute is
                # up: only an answer that streams can be read in time.
                stream = client.store.Series(request, timeout=20)
                first = next(stream)
                assert first.WhichOneof("result") == "series"
                # A series no store can still add to: eu1's, before the paused us1.
                assert dict((l.name, l.value) for l in first.series.labels)["cluster"] == "eu1"
                assert not resume.is_set()
                resume.set()
                rest = list(stream)
                streamed = [first.series, *(m.series for m in rest)]
                # The same series as one non-streaming answer of both stores.
                whole = client.series(EVERYTHING, START_MS, END_MS)
                assert [s.labels for s in streamed] == [s.labels for s in whole]
                assert len(whole) == 2 * len(DATA.series)
                keys = [tuple((l.name, l.value) for l in s.labels) for s in streamed]
                assert keys == sorted(keys)
            finally:
                client.close()


def test_info_announces_only_the_apis_served(tmp_path):
    """Thanos v0.26's querier announces the Query, Rules, Targets, Metadata and
    Exemplars APIs too; ours serves the StoreAPI and proxies the Rules,
    Targets, Metadata and Exemplars APIs, and its Info says so (it announced
    a Query API, which sent callers to nowhere)."""
    with FakeStore(DATA.series, {"cluster": "eu1"}) as store, querier(tmp_path, [store.address]) as q:
        client = StoreClient(q.grpc_address)
        try:
            info = client.info()
        finally:
            client.close()
    assert info.ComponentType == "query"
    assert info.HasField("store") and info.store.min_time <= START_MS and info.store.max_time >= END_MS
    for api in ("rules", "targets", "metric_metadata", "exemplars"):
        assert info.HasField(api), api
    assert not info.HasField("query")
