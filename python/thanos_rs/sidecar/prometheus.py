"""The sidecar's view of its Prometheus (``pkg/promclient`` and the
``promMetadata`` of ``cmd/thanos/sidecar.go`` upstream): an aiohttp client for
the HTTP API, the Rust client for remote read, and the external labels kept
fresh by a heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import aiohttp
import yaml
from prometheus_client import CollectorRegistry, Gauge

from thanos_rs import __version__
from thanos_rs._core import RemoteReadClient, RemoteReadSeries, SeriesStream
from thanos_rs.errors import PrometheusError
from thanos_rs.server.lifecycle import Prober
from thanos_rs.timestamp import STORE_MAX_TIME_MS

log = logging.getLogger("sidecar")

#: Thanos's user agents: the sidecar's own probes, and the data calls.
PROBE_USER_AGENT = "thanos-sidecar"
DATA_USER_AGENT = f"Thanos/{__version__}"

#: What Thanos says when Prometheus has no external labels: without them a
#: querier cannot tell this Prometheus's series from another's.
NO_EXTERNAL_LABELS = (
    "no external labels configured on Prometheus server, uniquely identifying external labels must be "
    "configured; see https://thanos.io/tip/thanos/storage.md#external-labels for details."
)

def parse_external_labels(config_yaml: str) -> list[tuple[str, str]]:
    """``global.external_labels`` of a Prometheus configuration, sorted by name.
    The base loader keeps every scalar a string, as Prometheus reads them:
    ``replica: 01`` is "01", not 1."""
    config = yaml.load(config_yaml, Loader=yaml.CBaseLoader) or {}
    labels = (config.get("global") or {}).get("external_labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise ValueError(f"external_labels is not a map of strings: {labels!r}")
    return sorted((k, v) for k, v in labels.items() if v != "")


class PrometheusClient:
    """HTTP calls to one Prometheus. Create and close it on the running loop."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        # No overall timeout: a remote read streams for as long as it has data.
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            headers={"User-Agent": DATA_USER_AGENT},
        )
        self._reader = RemoteReadClient(self.url, DATA_USER_AGENT)

    async def close(self) -> None:
        await self._session.close()

    async def _get_json(self, path: str, timeout: float) -> dict:
        """A probe: its own user agent and timeout."""
        body = await self.api_get(path, [], headers={"User-Agent": PROBE_USER_AGENT},
                                  timeout=aiohttp.ClientTimeout(total=timeout))
        return json.loads(body)

    async def build_version(self, timeout: float) -> str:
        """Prometheus's version; "0" for servers older than 2.14, which have no
        build info endpoint."""
        try:
            return (await self._get_json("/api/v1/status/buildinfo", timeout))["data"]["version"]
        except PrometheusError as e:
            if e.status == 404:
                return "0"
            raise

    async def external_labels(self, timeout: float) -> list[tuple[str, str]]:
        body = await self._get_json("/api/v1/status/config", timeout)
        return parse_external_labels(body["data"]["yaml"])

    async def flags(self, timeout: float) -> dict[str, str]:
        """Prometheus's command-line flags, by name without dashes."""
        return (await self._get_json("/api/v1/status/flags", timeout))["data"]

    async def lowest_timestamp(self, timeout: float) -> int | None:
        """The oldest sample Prometheus holds, in ms, from its own
        ``prometheus_tsdb_lowest_timestamp`` gauge (what current Thanos reads
        from ``/metrics``); None while it holds none (the gauge is then
        MaxInt64)."""
        async with self._session.get(self.url + "/metrics", headers={"User-Agent": PROBE_USER_AGENT},
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise PrometheusError(f"expected 200 response, got {resp.status}", resp.status)
        for line in body.decode(errors="replace").splitlines():
            name, _, value = line.partition(" ")
            if name == "prometheus_tsdb_lowest_timestamp":
                ms = float(value)
                return int(ms) if ms < STORE_MAX_TIME_MS else None
        return None

    async def api_get(self, path: str, params: list[tuple[str, str]], **kw) -> bytes:
        """A GET on the HTTP API; returns the raw JSON body of a 2xx answer.
        ``kw`` goes to aiohttp (headers, timeout)."""
        async with self._session.get(self.url + path, params=params, **kw) as resp:
            body = await resp.read()
            if resp.status // 100 != 2:
                raise PrometheusError(
                    f"expected 2xx response, got {resp.status}. Body: {body.decode(errors='replace')}", resp.status
                )
            return body

    async def remote_read(self, stream: SeriesStream) -> RemoteReadSeries:
        """``POST /api/v1/read`` for what ``stream`` selects, made by the Rust
        client so that the answer's bytes never pass through Python; returns
        once the headers are in, the body still to read."""
        return await asyncio.to_thread(self._reader.read, stream)

    async def reload(self, timeout: float) -> None:
        """``POST /-/reload``, which Prometheus serves with ``--web.enable-lifecycle``."""
        async with self._session.post(self.url + "/-/reload", timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            await resp.read()
            if resp.status != 200:
                raise PrometheusError(
                    f"received non-200 response: {resp.status} {resp.reason}; "
                    "have you set `--web.enable-lifecycle` Prometheus flag?", resp.status
                )


#: How long a successful read of Prometheus's configuration vouches for it:
#: a readiness probe, or a data call on the direct read path (which needs
#: nothing from Prometheus), reads it again when the last success is older,
#: so that a Prometheus that died is noticed by the first of them after, not
#: by the next heartbeat (30 s by default), and one that is back at once. The
#: querier's poll makes such a call every 5 s.
CONFIRM_AFTER = 1.0
#: How long that read may take before Prometheus counts as unreachable: it
#: answers in a few ms; a stopped process (SIGSTOP) never does.
CONFIRM_TIMEOUT = 2.0


class PrometheusMeta:
    """What the sidecar knows about its Prometheus: external labels and the time
    range it serves. Readiness and ``thanos_sidecar_prometheus_up`` follow each
    attempt to read the configuration.

    The time range is current Thanos's: from Prometheus's oldest sample (or
    ``--min-time``, if later) to the end of time. v0.26 announced ``--min-time``
    (year 0 by default) until it uploaded blocks, and queriers' stores pages
    showed no range at all."""

    def __init__(self, client: PrometheusClient, prober: Prober, registry: CollectorRegistry,
                 min_time: int, max_time: int, status: Gauge) -> None:
        self.client = client
        self.prober = prober
        self.external_labels: list[tuple[str, str]] = []
        self.min_time = self._flag_min_time = min_time
        self.max_time = max_time
        #: Why Prometheus is not usable, while it is not ("" when it is).
        self.failure = ""
        self._last_read = -1e9
        self._confirming: asyncio.Future | None = None
        self._status = status
        # Ready only once the gRPC server listens, so that a ready sidecar
        # always takes calls.
        self._serving = False
        self._healthy = False
        self._up = Gauge("thanos_sidecar_prometheus_up",
                         "Boolean indicator whether the sidecar can reach its Prometheus peer.", registry=registry)

    def start_serving(self) -> None:
        """Called once the gRPC server listens: readiness follows Prometheus from now on."""
        self._serving = True
        self._set_ready(self._healthy, "")

    async def update(self, timeout: float, min_time: bool = True) -> bool:
        """Reads the external labels once, and with ``min_time`` the oldest
        sample; True on success."""
        try:
            labels = await self.client.external_labels(timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError, PrometheusError, ValueError, KeyError) as e:
            self._up.set(0)
            self.failure = f"cannot read Prometheus's configuration: {_describe(e)}"
            self._set_ready(False, self.failure)
            log.warning("heartbeat failed err=%s", _describe(e))
            return False
        self._last_read = time.monotonic()
        self.failure = ""
        self._up.set(1)
        if min_time:
            await self._update_min_time(timeout)
        if labels != self.external_labels:
            log.info("successfully loaded prometheus external labels external_labels=%s", _format(labels))
            self.external_labels = labels
        if labels:
            self._set_ready(True, "")
        else:
            log.error("%s", NO_EXTERNAL_LABELS)
            self._set_ready(False, "no external labels")
        return True

    async def _update_min_time(self, timeout: float) -> None:
        try:
            lowest = await self.client.lowest_timestamp(timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError, PrometheusError, ValueError) as e:
            log.warning("cannot read Prometheus's lowest timestamp err=%s", _describe(e))
            return
        self.min_time = self._flag_min_time if lowest is None else max(self._flag_min_time, lowest)

    async def confirm(self) -> bool:
        """Whether Prometheus answers: at once if it did within
        ``CONFIRM_AFTER``, else after reading its configuration (one read
        shared by the calls that arrive meanwhile). On False, ``failure``
        says why, and the sidecar is not ready."""
        if self.failure == "" and time.monotonic() - self._last_read < CONFIRM_AFTER:
            return True
        if self._confirming is None or self._confirming.done():
            self._confirming = asyncio.ensure_future(self.update(CONFIRM_TIMEOUT, min_time=False))
        return await asyncio.shield(self._confirming)

    def unreachable(self, e: BaseException) -> None:
        """A call to Prometheus could not reach it: not ready from now, not
        from the next heartbeat (up to ``--prometheus.get_config_interval``
        later), which makes the sidecar ready again once Prometheus answers."""
        self._up.set(0)
        self.failure = f"cannot reach Prometheus: {_describe(e)}"
        self._set_ready(False, self.failure)

    def _set_ready(self, ready: bool, reason: str) -> None:
        self._healthy = ready
        if not self._serving:
            return
        if ready and not self.prober.ready:
            log.info("changing probe status status=ready")
            self.prober.set_ready()
        elif not ready and (self.prober.ready or self.prober.not_ready_reason != reason):
            if self.prober.ready:
                log.warning("changing probe status status=not-ready reason=%r", reason)
            self.prober.set_not_ready(reason)
        self._status.labels("ready", "sidecar").set(1 if self.prober.ready else 0)

    async def wait_first(self, stop: asyncio.Event, interval: float, timeout: float) -> bool:
        """Retries until the configuration has been read once; False if stopped first."""
        while not stop.is_set():
            if await self.update(timeout):
                return True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        return False

    async def heartbeat(self, stop: asyncio.Event, interval: float, timeout: float) -> None:
        """Re-reads the configuration every ``interval`` until stopped, so that
        changed external labels are followed and readiness tracks Prometheus."""
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if not stop.is_set():
                await self.update(timeout)


def _describe(e: BaseException) -> str:
    return str(e) or type(e).__name__


def _format(labels: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"
