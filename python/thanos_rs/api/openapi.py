"""The API's routes as FastAPI declares them: each with its typed parameters,
served as an OpenAPI description at ``/openapi.json`` (and ``/docs``).

The parameters are declared here rather than as arguments of the handlers:
Prometheus reads them from the URL *and* a urlencoded POST body (FastAPI's
``Form`` needs python-multipart and reads only the body), and answers a bad
one with its own ``bad_data`` error, not FastAPI's 422. So the handlers keep
reading :class:`thanos_rs.api.params.Form` with Prometheus's rules, and
FastAPI documents the parameters without validating them: no model
round-trip, and answers stay the bytes the Rust writer made. FastAPI routes
each request to its :class:`DocumentedRoute`, whose handler then runs as is."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["DocumentedRoute", "Param", "RouteDoc", "operation"]

_TIME = {"type": "string", "examples": ["1700000000.123", "2023-11-14T22:13:20Z"]}
_DURATION = {"type": "string", "examples": ["15s", "1m30s", "15"]}
_BOOL = {"type": "string", "examples": ["true", "false", "1", "0"]}
_STRING = {"type": "string"}
_INT = {"type": "string", "pattern": "^[+-]?[0-9]+$"}


@dataclass(frozen=True)
class Param:
    """One form parameter: from the URL or the body; ``repeated`` for the
    ``name[]`` lists."""

    name: str
    schema: dict
    description: str
    required: bool = False
    repeated: bool = False
    where: str = "query"

    def openapi(self) -> dict:
        schema = {"type": "array", "items": self.schema} if self.repeated else self.schema
        return {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                "description": self.description, "schema": schema,
                **({"style": "form", "explode": True} if self.repeated else {})}


QUERY = Param("query", _STRING, "The PromQL expression.", required=True)
TIME = Param("time", _TIME, "Evaluation time, Unix seconds or RFC 3339; the present when absent.")
START = Param("start", _TIME, "Start of the range, Unix seconds or RFC 3339.")
END = Param("end", _TIME, "End of the range, Unix seconds or RFC 3339.")
STEP = Param("step", _DURATION, "Resolution: a duration, or seconds as a float; "
                                "absent, Thanos's default of range / 250, at least --query.default-step.")
TIMEOUT = Param("timeout", _DURATION, "Evaluation timeout, at most --query.timeout.")
STATS = Param("stats", _STRING, "Any value adds Prometheus's query statistics to the answer.")
MATCH = Param("match[]", _STRING, "Series selectors the answer is limited to.", repeated=True)
LIMIT = Param("limit", _INT, "At most this many results (0: all), with a warning when cut.")
LABEL_NAME = Param("name", _STRING, "The label name.", where="path")

DEDUP = Param("dedup", _BOOL, "Thanos: merge the replicas of HA pairs (default true).")
REPLICA_LABELS = Param("replicaLabels[]", _STRING, "Thanos: the replica labels, instead of --query.replica-label.",
                       repeated=True)
PARTIAL_RESPONSE = Param("partial_response", _BOOL, "Thanos: answer without failing stores, with a warning "
                                                    "(default --query.partial-response).")
STORE_MATCH = Param("storeMatch[]", _STRING, "Thanos: only the stores whose address matches these selectors "
                                             "(__address__ matchers).", repeated=True)
MAX_SOURCE_RESOLUTION = Param("max_source_resolution", _DURATION,
                              "Thanos: the coarsest downsampled resolution to read, or auto.")

RULE_TYPE = Param("type", {"type": "string", "enum": ["alert", "record"]}, "Only alerting or only recording rules.")
RULE_NAME = Param("rule_name[]", _STRING, "Only the rules of these names (as Prometheus 2.46 reads it).", repeated=True)
RULE_GROUP = Param("rule_group[]", _STRING, "Only the groups of these names (as Prometheus 2.46 reads it).",
                   repeated=True)
RULE_FILE = Param("file[]", _STRING, "Only the groups of these files (as Prometheus 2.46 reads it).", repeated=True)

METRIC = Param("metric", _STRING, "Only this metric's metadata.")
METADATA_LIMIT = Param("limit", _INT, "At most this many metrics.")
TARGET_STATE = Param("state", {"type": "string", "enum": ["active", "dropped", "any"]},
                     "Only active or only dropped targets.")

THANOS_QUERY = (DEDUP, REPLICA_LABELS, PARTIAL_RESPONSE, STORE_MATCH, MAX_SOURCE_RESOLUTION)
THANOS_METADATA = (PARTIAL_RESPONSE, STORE_MATCH)


@dataclass(frozen=True)
class RouteDoc:
    """What the description says of a route."""

    summary: str
    params: Sequence[Param] = field(default_factory=tuple)
    tag: str = "query"


def operation(doc: RouteDoc, method: str) -> dict:
    """``openapi_extra`` of one method of a route: its parameters in the URL
    (GET) or, for POST, the non-path ones as a urlencoded body too."""
    params = [p.openapi() for p in doc.params]
    extra: dict = {"parameters": params}
    body = [p for p in doc.params if p.where != "path"]
    if method == "POST" and body:
        extra["requestBody"] = {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object",
            "properties": {p.name: p.openapi()["schema"] for p in body},
            "required": [p.name for p in body if p.required],
        }}}}
    return extra


class DocumentedRoute(APIRoute):
    """A route FastAPI describes but does not drive: its endpoint takes the
    request and returns the finished response, so FastAPI's per-request
    work (solving the endpoint's dependencies, checking a response model)
    has nothing to do and is skipped. It cost about 28 us of the 5 % budget
    of a tiny query (benches/test_http_api.py)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        return self.endpoint
