"""The querier's web UI: the graph page (expression, table and graph tabs,
deduplication and partial response switches, panel state in the URL as in
Prometheus's and Thanos's classic UI), the alerts, rules and targets pages,
and the stores page. Plain HTML, CSS and JavaScript shipped in the package:
nothing to build."""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = files("thanos_rs.ui") / "static"
PAGES = {"graph": "Graph", "alerts": "Alerts", "rules": "Rules", "targets": "Targets", "stores": "Stores"}


def _page(name: str, external_prefix: str, partial_response: bool) -> str:
    html = (STATIC / f"{name}.html").read_text()
    # Links and API calls are relative to the external prefix (a reverse proxy path).
    html = html.replace("{{prefix}}", external_prefix.rstrip("/"))
    return html.replace("{{partial_response}}", "1" if partial_response else "0")


def ui_routes(external_prefix: str = "", partial_response: bool = True) -> list[BaseRoute]:
    """The pages; ``partial_response`` is the querier's default (its
    ``--query.partial-response``), which the graph page's switch starts from."""
    pages = {name: _page(name, external_prefix, partial_response) for name in PAGES}

    def serve(name: str):
        async def handler(request: Request) -> Response:
            return HTMLResponse(pages[name])

        return handler

    icon = (STATIC / "favicon.svg").read_bytes()

    async def favicon(request: Request) -> Response:
        return Response(icon, media_type="image/svg+xml")

    async def root(request: Request) -> Response:
        return RedirectResponse(f"{external_prefix.rstrip('/')}/graph", status_code=302)

    return [
        Route("/", root, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        *(Route(f"/{name}", serve(name), methods=["GET"]) for name in PAGES),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]
