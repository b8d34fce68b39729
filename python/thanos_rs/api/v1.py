"""The querier's HTTP API: Prometheus's ``/api/v1`` with Thanos's parameters
(``dedup``, ``partial_response``, ``replicaLabels[]``) and endpoints
(``/api/v1/stores``), answering as Thanos v0.26 does.

The routes are FastAPI's, each declared with its parameters for the OpenAPI
description (:mod:`thanos_rs.api.openapi`). Answers are assembled from the
JSON bytes Rust produced, never through a model; errors use Prometheus's body
``{"status":"error","errorType":...,"error":...}`` and Thanos's status codes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Route

from thanos_rs import __version__, _core
from thanos_rs.api.openapi import (
    DEDUP,
    END,
    LABEL_NAME,
    LIMIT,
    MATCH,
    METADATA_LIMIT,
    METRIC,
    PARTIAL_RESPONSE,
    QUERY,
    REPLICA_LABELS,
    RULE_FILE,
    RULE_GROUP,
    RULE_NAME,
    RULE_TYPE,
    START,
    STATS,
    STEP,
    TARGET_STATE,
    THANOS_METADATA,
    THANOS_QUERY,
    TIME,
    TIMEOUT,
    DocumentedRoute,
    RouteDoc,
    operation,
)
from thanos_rs.api.params import (
    Form,
    GoTime,
    bool_param,
    go_atoi,
    go_quote,
    go_time_param,
    invalid_param,
    parse_duration,
    required_time_param,
    time_param,
)
from thanos_rs.errors import BadDataError, StoreError, ThanosRsError
from thanos_rs.query import apis
from thanos_rs.query import rules as query_rules
from thanos_rs.query.endpoints import Endpoint
from thanos_rs.query.querier import Answer, AsyncQuerier
from thanos_rs.timestamp import MAX_TIME_MS, MIN_TIME_MS, duration_ms, from_seconds

log = logging.getLogger(__name__)

#: Thanos's status for each error type (``pkg/api/api.go``).
STATUS_BY_ERROR_TYPE = {
    "bad_data": 400,
    "execution": 422,
    "canceled": 503,
    "timeout": 503,
    "internal": 500,
    "unavailable": 503,
    "not_found": 404,
}

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def json_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def with_stats(form: Form, answer: Answer) -> bytes:
    """A query's ``data``, with Prometheus's ``stats`` object in it when the
    ``stats`` parameter is not empty (any value, as in 2.42)."""
    if form.get("stats") == "" or answer.stats is None:
        return answer.data
    return answer.data[:-1] + b',"stats":' + answer.stats.to_json() + b"}"


def success(data: bytes, warnings: list[str] | None = None) -> Response:
    body = b'{"status":"success","data":' + data
    if warnings:
        body += b',"warnings":' + json.dumps(warnings).encode()
    resp = json_response(body + b"}")
    if warnings:
        resp.headers["Cache-Control"] = "no-store"
    return resp


def error(error_type: str, message: str) -> Response:
    body = json.dumps({"status": "error", "errorType": error_type, "error": message}).encode()
    return json_response(body, STATUS_BY_ERROR_TYPE.get(error_type, 500))


@dataclass
class APIConfig:
    """What the API needs from the querier's flags."""

    #: ``--query.default-step`` in seconds.
    default_step: float = 1.0
    #: ``--query.auto-downsampling``: without ``max_source_resolution``, range
    #: queries read data downsampled up to step / 5.
    auto_downsampling: bool = False
    #: ``--query.instant.default.max_source_resolution`` in seconds: what
    #: ``auto`` means for instant queries.
    instant_max_source_resolution: float = 0.0
    #: ``--query.metadata.default-time-range`` in seconds; 0 means all time.
    metadata_default_range: float = 0.0
    #: Flag values for ``/api/v1/status/flags``.
    flags: Mapping[str, str] = field(default_factory=dict)
    cors: bool = True


class QueryAPI:
    """The handlers, bound to a querier."""

    def __init__(self, querier: AsyncQuerier, config: APIConfig | None = None) -> None:
        self.querier = querier
        # A fresh default each time: APIConfig is mutable, a shared default would not be.
        self.config = config if config is not None else APIConfig()
        self.started = time.time()

    def routes(self) -> list[BaseRoute]:
        """FastAPI routes, one per path and method, each with its parameters
        declared for the OpenAPI description (:mod:`thanos_rs.api.openapi`)."""
        both = ["GET", "POST"]
        table: list[tuple[str, Callable[[Request, Form], Awaitable[Response]], list[str], RouteDoc]] = [
            ("/api/v1/query", self.query, both,
             RouteDoc("Instant query", (QUERY, TIME, TIMEOUT, STATS, *THANOS_QUERY))),
            ("/api/v1/query_range", self.query_range, both,
             RouteDoc("Range query", (QUERY, START, END, STEP, TIMEOUT, STATS, *THANOS_QUERY))),
            ("/api/v1/series", self.series, both,
             RouteDoc("Series matching selectors", (MATCH, START, END, LIMIT, DEDUP, REPLICA_LABELS,
                                                   *THANOS_METADATA), "metadata")),
            ("/api/v1/labels", self.labels, both,
             RouteDoc("Label names", (MATCH, START, END, LIMIT, *THANOS_METADATA), "metadata")),
            ("/api/v1/label/{name}/values", self.label_values, ["GET"],
             RouteDoc("Values of a label", (LABEL_NAME, MATCH, START, END, LIMIT, *THANOS_METADATA), "metadata")),
            ("/api/v1/stores", self.stores, ["GET"], RouteDoc("Thanos: the stores and their state", (), "status")),
            ("/api/v1/rules", self.rules, ["GET"],
             RouteDoc("Recording and alerting rules", (RULE_TYPE, RULE_NAME, RULE_GROUP, RULE_FILE, DEDUP,
                                                       REPLICA_LABELS, PARTIAL_RESPONSE, TIMEOUT), "rules")),
            ("/api/v1/alerts", self.alerts, ["GET"],
             RouteDoc("Active alerts", (DEDUP, REPLICA_LABELS, PARTIAL_RESPONSE, TIMEOUT), "rules")),
            ("/api/v1/metadata", self.metric_metadata, ["GET"],
             RouteDoc("Metric metadata", (METRIC, METADATA_LIMIT, PARTIAL_RESPONSE, TIMEOUT), "metadata")),
            ("/api/v1/targets", self.targets, ["GET"],
             RouteDoc("Scrape targets", (TARGET_STATE, DEDUP, REPLICA_LABELS, PARTIAL_RESPONSE, TIMEOUT), "status")),
            ("/api/v1/query_exemplars", self.query_exemplars, both,
             RouteDoc("Exemplars", (QUERY, START, END, DEDUP, REPLICA_LABELS, PARTIAL_RESPONSE, TIMEOUT))),
            ("/api/v1/status/buildinfo", self.buildinfo, ["GET"], RouteDoc("Build information", (), "status")),
            ("/api/v1/status/flags", self.status_flags, ["GET"], RouteDoc("Command-line flags", (), "status")),
            ("/api/v1/status/runtimeinfo", self.runtimeinfo, ["GET"], RouteDoc("Runtime information", (), "status")),
        ]
        routes: list[BaseRoute] = [
            DocumentedRoute(path, self._wrap(fn), methods=[method], summary=doc.summary, tags=[doc.tag],
                     name=f"{fn.__name__}_{method.lower()}", openapi_extra=operation(doc, method))
            for path, fn, methods, doc in table
            for method in methods
        ]
        self._api_routes = list(routes)
        # Every other method and path under /api/v1: CORS preflights, and
        # Prometheus's 404 and 405 instead of Starlette's.
        unrouted = Route("/api/v1/{rest:path}", self._unrouted)
        unrouted.methods = None  # any method, not Starlette's default of GET
        routes.append(unrouted)
        return routes

    def _cors(self, resp: Response) -> Response:
        if self.config.cors:
            resp.headers["Access-Control-Allow-Origin"] = "*"
            resp.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Encoding, Authorization, Content-Type, Origin"
            resp.headers["Access-Control-Expose-Headers"] = "Date"
        return resp

    async def _unrouted(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._cors(Response(status_code=204))
        allowed: set[str] = set()
        for route in self._api_routes:
            match, _ = route.matches(request.scope)
            if match != Match.NONE:
                allowed |= getattr(route, "methods", None) or set()
        # Go's http.Error, as Prometheus 2.42's router answers: plain text, not
        # the API's JSON.
        headers = {"X-Content-Type-Options": "nosniff"}
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed | {"OPTIONS"}))
            return PlainTextResponse("Method Not Allowed\n", status_code=405, headers=headers)
        return PlainTextResponse("404 page not found\n", status_code=404, headers=headers)

    def _wrap(self, fn: Callable[[Request, Form], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                form = await Form.read(request)
                resp = await _unless_disconnected(request, fn(request, form))
            except ThanosRsError as e:
                resp = error(e.error_type, e.message)
            except TimeoutError:
                resp = error("timeout", "query timed out in expression evaluation")
            except Exception as e:  # the process keeps serving; the client learns what broke
                log.exception("handler %s failed", request.url.path)
                resp = error("internal", f"internal error: {e}")
            return self._cors(resp)

        return handler

    # Thanos's parameters.

    def _dedup(self, form: Form) -> tuple[bool, list[str] | None]:
        dedup = bool_param(form, "dedup", True)
        replica_labels = form.getall("replicaLabels[]") or None
        return dedup, replica_labels

    def _partial(self, form: Form) -> bool:
        return bool_param(form, "partial_response", self.querier.options.partial_response)

    def _thanos_params(self, form: Form) -> list[str]:
        """Checks Thanos's own parameters; returns the ``storeMatch[]``
        selectors (checked here, so that a bad one is its own error)."""
        self._max_source_resolution(form, 0)
        return self._store_match(form)

    def _max_source_resolution(self, form: Form, auto_ms: int) -> int:
        """``max_source_resolution`` in ms, as Thanos reads it
        (``parseDownsamplingParamMillis``): ``auto``, or nothing under
        ``--query.auto-downsampling``, is ``auto_ms``; nothing otherwise is 0,
        raw data only."""
        res = form.get("max_source_resolution")
        if res in ("", "auto"):
            return auto_ms if res == "auto" or self.config.auto_downsampling else 0
        try:
            d = parse_duration(res)
        except BadDataError as e:
            raise BadDataError(f"'max_source_resolution' parameter: {e.message}") from None
        if d < 0:
            raise BadDataError("negative 'max_source_resolution' is not accepted. Try a positive integer")
        return duration_ms(d)

    @staticmethod
    def _store_match(form: Form) -> list[str]:
        store_match = form.getall("storeMatch[]")
        if store_match:
            _core.match_store_addresses(store_match, [])
        return store_match

    def _timeout(self, form: Form) -> float | None:
        text = form.get("timeout")
        if text == "":
            return None
        try:
            return parse_duration(text)
        except BadDataError as e:
            raise invalid_param("timeout", e.message) from None

    # Handlers.

    async def query(self, request: Request, form: Form) -> Response:
        t = from_seconds(time_param(form, "time", time.time()))
        timeout = self._timeout(form)
        dedup, replica_labels = self._dedup(form)
        partial = self._partial(form)
        resolution = self._max_source_resolution(form, duration_ms(self.config.instant_max_source_resolution))
        store_match = self._store_match(form)
        try:
            answer = await self.querier.query(
                form.get("query"), t, dedup=dedup, replica_labels=replica_labels,
                partial_response=partial, timeout=timeout, store_match=store_match,
                max_source_resolution=resolution,
            )
        except ThanosRsError as e:
            if e.error_type == "bad_data":
                raise invalid_param("query", e.message) from None
            raise
        return success(with_stats(form, answer), answer.warnings)

    async def query_range(self, request: Request, form: Form) -> Response:
        start = from_seconds(required_time_param(form, "start"))
        end = from_seconds(required_time_param(form, "end"))
        if form.get("step") == "":
            # Thanos's default, the UI's resolution: range/250, at least the default step.
            step = max((end - start) // 1000 // 250, int(self.config.default_step)) * 1000
        else:
            try:
                step = duration_ms(parse_duration(form.get("step")))
            except BadDataError as e:
                raise invalid_param("step", e.message) from None
        # Checked here, before the other parameters, as Prometheus orders them.
        fault = _core.range_query_error(start, end, step)
        if fault is not None:
            param, message = fault
            raise invalid_param(param, message) if param else BadDataError(message)
        timeout = self._timeout(form)
        dedup, replica_labels = self._dedup(form)
        partial = self._partial(form)
        resolution = self._max_source_resolution(form, step // 5)
        store_match = self._store_match(form)
        answer = await self.querier.query_range(
            form.get("query"), start, end, step, dedup=dedup, replica_labels=replica_labels,
            partial_response=partial, timeout=timeout, store_match=store_match,
            max_source_resolution=resolution,
        )
        return success(with_stats(form, answer), answer.warnings)

    @staticmethod
    def _limit(form: Form) -> int:
        """The ``limit`` of the metadata endpoints. Prometheus 2.42 has none;
        it is read as Prometheus reads it since v2.54 (``parseLimitParam`` in
        web/api/v1/api.go; v2.51-2.53 refused 0): absent or 0 is no limit, and
        a bad one is ``invalid parameter "limit": ...``."""
        text = form.get("limit")
        if text == "":
            return 0
        try:
            limit = go_atoi(text)
        except ValueError as e:
            raise invalid_param("limit", str(e)) from None
        if limit < 0:
            raise invalid_param("limit", "limit must be non-negative")
        return limit

    def _metadata_range(self, form: Form) -> tuple[int, int]:
        """Thanos's ``parseMetadataTimeRange``: all time unless
        ``--query.metadata.default-time-range`` says otherwise. Times are
        Go's, so that out-of-range ones (``end=1e300``) mean what they mean to
        Prometheus 2.42 instead of failing."""
        default_range = self.config.metadata_default_range
        now_ms = from_seconds(time.time())
        start_default = MIN_TIME_MS if default_range == 0 else now_ms - duration_ms(default_range)
        end_default = MAX_TIME_MS if default_range == 0 else now_ms
        start = go_time_param(form, "start", GoTime.from_ms(start_default))
        end = go_time_param(form, "end", GoTime.from_ms(end_default))
        if end.before(start):
            raise invalid_param("end", "end timestamp must not be before start time")
        return start.ms(), end.ms()

    async def series(self, request: Request, form: Form) -> Response:
        if form.body_too_large:
            # Only /series checks ParseForm's error in Prometheus 2.42; the
            # others answer from the URL's values.
            raise BadDataError("error parsing form values: http: POST too large")
        matches = form.getall("match[]")
        if not matches:
            raise BadDataError("no match[] parameter provided")
        start, end = self._metadata_range(form)
        dedup, replica_labels = self._dedup(form)
        partial = self._partial(form)
        limit = self._limit(form)
        store_match = self._thanos_params(form)
        try:
            answer = await self.querier.series(
                matches, start, end, dedup=dedup, replica_labels=replica_labels, partial_response=partial, limit=limit,
                store_match=store_match,
            )
        except BadDataError as e:
            raise invalid_param("match[]", e.message) from None
        return success(answer.data, answer.warnings)

    async def labels(self, request: Request, form: Form) -> Response:
        start, end = self._metadata_range(form)
        partial = self._partial(form)
        limit = self._limit(form)
        store_match = self._thanos_params(form)
        answer = await self.querier.label_names(
            form.getall("match[]"), start, end, partial_response=partial, limit=limit, store_match=store_match
        )
        return success(answer.data, answer.warnings)

    async def label_values(self, request: Request, form: Form) -> Response:
        name = request.path_params["name"]
        if not _LABEL_NAME.match(name):
            raise BadDataError(f"invalid label name: {go_quote(name)}")
        start, end = self._metadata_range(form)
        partial = self._partial(form)
        limit = self._limit(form)
        store_match = self._thanos_params(form)
        answer = await self.querier.label_values(
            name, form.getall("match[]"), start, end, partial_response=partial, limit=limit, store_match=store_match
        )
        return success(answer.data, answer.warnings)

    async def rules(self, request: Request, form: Form) -> Response:
        """Prometheus's ``/api/v1/rules`` over every Rules API endpoint, with
        Thanos's ``dedup``, ``replicaLabels[]`` and ``partial_response``, and
        the ``rule_name[]``, ``rule_group[]`` and ``file[]`` of later Prometheus."""
        kind = form.get("type").lower()
        if kind not in ("", "alert", "record"):
            # Prometheus 2.42's words; Thanos v0.26 has its own and also takes "all".
            raise invalid_param("type", f"not supported value {go_quote(kind)}")
        return await self._rules(form, kind, alerts=False)

    async def alerts(self, request: Request, form: Form) -> Response:
        """Prometheus's ``/api/v1/alerts``: the alerts of every alerting rule."""
        return await self._rules(form, "alert", alerts=True)

    async def _rules(self, form: Form, kind: str, alerts: bool) -> Response:
        dedup, replica_labels = self._dedup(form)
        try:
            answer = await query_rules.rules(
                self.querier, kind, alerts=alerts, dedup=dedup, replica_labels=replica_labels,
                partial_response=self._partial(form), timeout=self._timeout(form),
                # Prometheus's filters since v2.46 (2.42 has none); /alerts has none.
                rule_names=[] if alerts else form.getall("rule_name[]"),
                groups=[] if alerts else form.getall("rule_group[]"),
                files=[] if alerts else form.getall("file[]"),
            )
        except StoreError as e:
            # Thanos's words and type for a failed endpoint without partial response.
            raise ThanosRsError(f"error retrieving rules: proxy Rules: {e.message}", "internal") from None
        return success(answer.data, answer.warnings)

    # The Metadata, Targets and Exemplars APIs, fanned out to the endpoints
    # that announce them (Thanos's NewMetricMetadataHandler, NewTargetsHandler
    # and NewExemplarsHandler); Rust merges and writes the answers.

    def _replica_labels(self, form: Form) -> list[str]:
        """The labels deduplication removes: none with ``dedup=false``."""
        dedup, replica_labels = self._dedup(form)
        if not dedup:
            return []
        return list(replica_labels if replica_labels is not None else self.querier.options.replica_labels)

    async def _gather(self, api: apis.API, request: bytes, form: Form, partial: bool, what: str,
                      targets: list[Endpoint] | None = None) -> apis.Gathered:
        timeout = self._timeout(form) or self.querier.options.timeout
        try:
            return await apis.gather(
                self.querier.endpoints.serving(api.name) if targets is None else targets, api, request,
                partial_response=partial, timeout=timeout,
            )
        except StoreError as e:
            # Thanos answers these internal errors, wrapped by its handler and proxy client.
            raise ThanosRsError(f"retrieving {what}: proxy {api.method.rsplit('/', 1)[1]}: {e.message}",
                                "internal") from None

    async def metric_metadata(self, request: Request, form: Form) -> Response:
        limit = -1  # no limit, as Thanos asks
        if form.get("limit") != "":
            try:
                limit = go_atoi(form.get("limit"))
            except ValueError:
                raise BadDataError("limit must be a number") from None
            limit = max(min(limit, 2**31 - 1), -1)
        partial = self._partial(form)
        req = _core.encode_metadata_request(form.get("metric"), limit, partial)
        got = await self._gather(apis.METADATA, req, form, partial, "metadata")
        data, warnings = _core.merge_metadata(got.answers, limit)
        return success(data, got.warnings + warnings)

    async def targets(self, request: Request, form: Form) -> Response:
        partial = self._partial(form)
        state = form.get("state")
        req = _core.encode_targets_request(state, partial)
        if req is None:
            # Thanos's word; Prometheus 2.42 answers empty lists instead.
            raise BadDataError(f"invalid targets parameter state='{state}'")
        got = await self._gather(apis.TARGETS, req, form, partial, "targets")
        data, warnings = _core.merge_targets(got.answers, self._replica_labels(form))
        return success(data, got.warnings + warnings)

    async def query_exemplars(self, request: Request, form: Form) -> Response:
        # Prometheus 2.42's checks, in its order.
        start = from_seconds(time_param(form, "start", MIN_TIME_MS / 1000))
        end = from_seconds(time_param(form, "end", MAX_TIME_MS / 1000))
        if end < start:
            raise BadDataError("end timestamp must not be before start timestamp")
        partial = self._partial(form)
        endpoints = self.querier.endpoints.serving(apis.EXEMPLARS.name)
        requests = _core.exemplars_requests(
            form.get("query"), start, end, partial, list(self.querier.options.selector_labels),
            [e.label_sets for e in endpoints],
        )
        if requests is None:
            # No selectors: Prometheus answers 204 without a body, Thanos an empty list.
            return success(b"[]")
        # Each endpoint its own query: one gather per distinct request.
        by_request: dict[bytes, list[Endpoint]] = {}
        for e, req in zip(endpoints, requests, strict=True):
            if req is not None:
                by_request.setdefault(req, []).append(e)
        gathered = await asyncio.gather(*(
            self._gather(apis.EXEMPLARS, req, form, partial, "exemplars", targets=es)
            for req, es in by_request.items()
        ))
        answers = [a for g in gathered for a in g.answers]
        data, warnings = _core.merge_exemplars(answers, self._replica_labels(form))
        return success(data, [w for g in gathered for w in g.warnings] + warnings)

    async def stores(self, request: Request, form: Form) -> Response:
        return success(json.dumps(self.querier.endpoints.statuses()).encode())

    async def buildinfo(self, request: Request, form: Form) -> Response:
        """What this is and what built it. Of Prometheus's fields only
        ``version`` is kept: clients read it (Grafana's feature discovery,
        ``discoverDataSourceFeatures``, takes it as the Thanos version once
        ``/api/v1/status/flags`` answers) and none reads the others, which
        would be empty or untrue here (``revision``, ``branch``,
        ``buildUser``, ``buildDate``, ``goVersion``). No ``features`` key:
        Grafana reads a buildinfo with one as Mimir's or an unknown flavour."""
        info = {
            "version": __version__,
            "application": "thanos_rs",
            "pythonVersion": platform.python_version(),
            "pythonImplementation": platform.python_implementation(),
            "rustVersion": _core.RUSTC_VERSION,
            "target": _core.TARGET,
        }
        return success(json.dumps(info).encode())

    async def status_flags(self, request: Request, form: Form) -> Response:
        return success(json.dumps(dict(self.config.flags)).encode())

    async def runtimeinfo(self, request: Request, form: Form) -> Response:
        info = {
            "startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "CWD": os.getcwd(),
            "goroutineCount": 0,
            "GOMAXPROCS": os.cpu_count() or 1,
            "GOGC": "",
            "GODEBUG": "",
        }
        return success(json.dumps(info).encode())


async def _unless_disconnected(request: Request, answer: Awaitable[Response]) -> Response:
    """``answer``, unless the client goes away first: then it is cancelled
    (its store calls and its evaluation stop) and nobody is left to read the
    error. The body has been read by then, so the next ASGI message can only
    be the disconnect."""

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    work = asyncio.ensure_future(answer)
    gone = asyncio.ensure_future(disconnected())
    try:
        done, _ = await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work, gone):
            task.cancel()
    if work in done:
        return work.result()
    log.debug("client went away, request cancelled path=%s", request.url.path)
    return error("canceled", "query was canceled: the client disconnected")


__all__ = ["APIConfig", "Answer", "QueryAPI", "STATUS_BY_ERROR_TYPE", "error", "success"]
