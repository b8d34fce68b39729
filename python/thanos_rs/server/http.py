"""The HTTP server of a component: a Starlette app run by uvicorn on the
component's event loop, with the endpoints every Thanos component has
(``/-/healthy``, ``/-/ready``, ``/metrics``) and request metrics named as
Thanos names them."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import socket
import time
from collections.abc import Sequence

import uvicorn
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from thanos_rs import __version__
from thanos_rs.server.lifecycle import Prober

log = logging.getLogger(__name__)


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total", "Tracks the number of HTTP requests.", ["code", "handler", "method"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds", "Tracks the latencies for HTTP requests.", ["code", "handler", "method"],
            registry=registry,
        )


class _Instrument:
    """Counts and times requests by route (the path template, not the URL)."""

    def __init__(self, app: ASGIApp, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            handler = getattr(route, "path", None) or "other"
            labels = (str(status), handler, scope.get("method", ""))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.duration.labels(*labels).observe(time.perf_counter() - start)


async def _not_found(request: Request, exc: Exception) -> Response:
    """Go's ``http.NotFound``, as Thanos answers a path it does not serve
    (FastAPI's own answer is JSON)."""
    return PlainTextResponse("404 page not found\n", status_code=404)


def _prefixed(route: BaseRoute, prefix: str) -> BaseRoute:
    """``route`` served under ``prefix``: a copy with its path, and the
    pattern compiled from it, prefixed."""
    if not prefix:
        return route
    if isinstance(route, Mount):
        return Mount(prefix + route.path, app=route.app, name=route.name)
    if not isinstance(route, Route):
        raise TypeError(f"cannot serve a {type(route).__name__} under a route prefix")
    moved = copy.copy(route)
    moved.path = prefix + route.path
    moved.path_regex, moved.path_format, moved.param_convertors = compile_path(moved.path)
    return moved


def build_app(
    routes: Sequence[BaseRoute], prober: Prober, registry: CollectorRegistry, *, route_prefix: str = "",
    api_title: str | None = None,
) -> Starlette:
    """The component's app: its routes under ``route_prefix`` plus the probes
    and metrics (which Thanos serves at the root). With ``api_title`` the
    routes are a FastAPI application, whose OpenAPI description is served at
    ``/openapi.json`` and browsed at ``/docs`` (under the prefix too)."""

    async def healthy(request: Request) -> Response:
        if prober.healthy:
            return PlainTextResponse("OK")
        return PlainTextResponse("NOT OK", status_code=503)

    async def ready(request: Request) -> Response:
        if prober.confirm is not None:
            await prober.confirm()
        if prober.ready:
            return PlainTextResponse("OK")
        return PlainTextResponse(f"NOT OK: {prober.not_ready_reason}", status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    base: list[BaseRoute] = [
        Route("/-/healthy", healthy, methods=["GET", "HEAD"]),
        Route("/-/ready", ready, methods=["GET", "HEAD"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    middleware = [
        Middleware(_Instrument, metrics=_Metrics(registry)),
        # Go's default compression level; big matrices shrink ten-fold.
        Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6),
    ]
    prefix = route_prefix.rstrip("/")
    if api_title is not None:
        # The routes under their full paths rather than mounted (the
        # description lists only the app's own routes) or included (FastAPI
        # 0.165's included router costs ~17 us a request to match).
        return FastAPI(title=api_title, version=__version__, routes=base + [_prefixed(r, prefix) for r in routes],
                       middleware=middleware, openapi_url=f"{prefix}/openapi.json", docs_url=f"{prefix}/docs",
                       redoc_url=None, exception_handlers={404: _not_found})
    app_routes = base + ([Mount(prefix, routes=list(routes))] if prefix else list(routes))
    return Starlette(routes=app_routes, middleware=middleware)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        # The component owns SIGINT/SIGTERM (see lifecycle.run).
        yield


class HTTPServer:
    """uvicorn on the running loop, stopped by :meth:`stop`."""

    def __init__(self, app: ASGIApp, address: str, grace_period: float) -> None:
        host, _, port = address.rpartition(":")
        config = uvicorn.Config(
            app, host=host or "0.0.0.0", port=int(port), log_config=None, access_log=False, lifespan="off",
            timeout_graceful_shutdown=grace_period, http="httptools", loop="none",
        )
        self._server = _Server(config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # Bound here rather than by uvicorn, so that a busy port is one clear
        # error instead of uvicorn exiting the process.
        config = self._server.config
        sock = socket.create_server((config.host, config.port), reuse_port=False)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError(f"the HTTP server on {config.host}:{config.port} did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
