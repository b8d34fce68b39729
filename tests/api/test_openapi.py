"""The querier's HTTP layer is FastAPI: the OpenAPI description lists every
API route with its methods and parameters, Swagger UI browses it, and both
follow ``--web.route-prefix`` with the API and the UI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from fastapi.routing import APIRoute
from support.components import querier

from thanos_rs.api.v1 import QueryAPI

pytestmark = pytest.mark.slow


def declared() -> dict[str, set[str]]:
    """Every API route as the code declares it: path to methods."""
    routes: dict[str, set[str]] = {}
    for r in QueryAPI(querier=None).routes():  # type: ignore[arg-type]  # routes() reads no querier
        if isinstance(r, APIRoute):
            routes.setdefault(r.path, set()).update(m.lower() for m in r.methods)
    return routes


def get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read(), r.headers.get("Content-Type", "")


def test_the_description_lists_every_route(tmp_path):
    routes = declared()
    for must in ("/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
                 "/api/v1/label/{name}/values", "/api/v1/stores", "/api/v1/status/buildinfo", "/api/v1/rules",
                 "/api/v1/alerts", "/api/v1/targets", "/api/v1/metadata", "/api/v1/query_exemplars"):
        assert must in routes
    with querier(tmp_path, []) as q:
        status, body, _ = get(f"{q.url}/openapi.json")
        doc = json.loads(body)
        assert status == 200 and doc["openapi"].startswith("3.")
        assert {p: set(ops) for p, ops in doc["paths"].items()} == routes
        query = doc["paths"]["/api/v1/query"]
        names = {p["name"] for p in query["get"]["parameters"]}
        assert {"query", "time", "timeout", "dedup", "partial_response", "storeMatch[]"} <= names
        form = query["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert form["required"] == ["query"] and "time" in form["properties"]
        values = doc["paths"]["/api/v1/label/{name}/values"]["get"]["parameters"]
        assert {"name": "name", "in": "path"}.items() <= values[0].items()
        status, body, ctype = get(f"{q.url}/docs")
        assert status == 200 and ctype.startswith("text/html") and b"/openapi.json" in body


def test_a_route_prefix_moves_the_api_the_ui_and_the_description(tmp_path):
    with querier(tmp_path, [], "--web.route-prefix=/thanos") as q:
        doc = json.loads(get(f"{q.url}/thanos/openapi.json")[1])
        assert "/thanos/api/v1/query" in doc["paths"] and "/api/v1/query" not in doc["paths"]
        status, body, _ = get(f"{q.url}/thanos/api/v1/query?query=1&time=10")
        assert status == 200 and json.loads(body)["data"] == {"resultType": "scalar", "result": [10, "1"]}
        status, body, _ = get(f"{q.url}/thanos/graph")
        assert status == 200 and b"<html" in body.lower()
        status, _, ctype = get(f"{q.url}/thanos/static/graph.js")
        assert status == 200 and "javascript" in ctype
        status, _, ctype = get(f"{q.url}/thanos/docs")
        assert status == 200 and ctype.startswith("text/html")
        assert get(f"{q.url}/-/ready")[0] == 200, "the probes stay at the root, as Thanos serves them"


def test_unknown_paths_answer_as_go_does(tmp_path):
    with querier(tmp_path, []) as q:
        for path in ("/nothing/here", "/api/v1/nothing"):
            with pytest.raises(urllib.error.HTTPError) as e:
                get(f"{q.url}{path}")
            assert e.value.code == 404 and e.value.read() == b"404 page not found\n", path
