"""The querier's HTTP layer on tiny requests, where its cost is most of the
answer: a constant query that asks no store, a selector answered by one
small store, and the label names. One kept-alive connection, as Grafana's
backend keeps one. Compare runs before and after a change to the HTTP layer
(the FastAPI routes were held to at most 5 % more than Starlette's).

``python -m pytest benches/test_http_api.py --benchmark-only``
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from support import datasets
from support.components import querier
from support.storeapi import FakeStore

DATA = datasets.monitoring(hours=1, jobs=1, instances=2, extra_labels={"cluster": "eu1"})
T = DATA.start + 1800

REQUESTS = {
    "constant": ("/api/v1/query", {"query": "1", "time": T}),
    "one_store": ("/api/v1/query", {"query": 'up{instance="host1:9100"}', "time": T}),
    "labels": ("/api/v1/labels", {"start": T - 60, "end": T}),
}


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    work = tmp_path_factory.mktemp("http_api")
    with FakeStore(DATA.series, {"cluster": "eu1", "replica": "0"}) as store, querier(work, [store.address]) as q:
        conn = http.client.HTTPConnection("127.0.0.1", q.http_port, timeout=30)
        yield conn
        conn.close()


@pytest.mark.parametrize("name", list(REQUESTS))
def test_tiny_request(benchmark, connection, name):
    path, params = REQUESTS[name]
    url = f"{path}?{urllib.parse.urlencode(params)}"

    def get() -> dict:
        connection.request("GET", url)
        r = connection.getresponse()
        return json.loads(r.read())

    body = get()
    assert body["status"] == "success" and body["data"], body
    benchmark.pedantic(get, rounds=2000, warmup_rounds=200)
