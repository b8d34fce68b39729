"""The querier's endpoints: one gRPC channel per address, polled with the Info
API every 5 seconds as Thanos's ``EndpointSet`` does, so that a store that
starts later, dies or comes back is followed. The status of each endpoint
feeds ``/api/v1/stores`` and the stores page.

Unlike Thanos, a store that goes down is not forgotten: it keeps the label
sets and time range it last announced, so that a query that would have asked
it gets a warning (or an error without partial response) rather than a
silently smaller answer. Calls in flight to a store are failed as soon as it
is found down, instead of hanging until the query's deadline. A store whose
Info answers but whose data calls fail (a sidecar whose Prometheus is down)
shows as failing too: every poll also makes a cheap ``LabelNames`` call.

Besides the static addresses, the set follows discovery (DNS and file SD,
see :mod:`thanos_rs.query.discovery`): an address that is no longer
discovered is closed and removed, a new one is polled at once. A discovery
name that resolves to nothing is listed on the stores page with the reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from thanos_rs import _core
from thanos_rs.errors import StoreError, ThanosRsError
from thanos_rs.query.fanout import Store
from thanos_rs.query.grpc_client import INFO, LABEL_NAMES, LEGACY_STORE_INFO, ChannelFactory, rpc_error_text
from thanos_rs.timestamp import STORE_MAX_TIME_MS, STORE_MIN_TIME_MS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How often endpoints are asked for their Info, and how long each may take
#: (Thanos v0.26: ``runutil.Repeat(5*time.Second, ...)`` with a 5 s context).
UPDATE_INTERVAL = 5.0
INFO_TIMEOUT = 5.0

#: What Thanos records when a healthy endpoint stops answering.
UNHEALTHY_MESSAGE = "removing endpoint because it's unhealthy or does not exist"

#: The reason given for a store that is down, before the poll says why.
DOWN = "endpoint is down"

#: Why a store's calls fail once discovery no longer lists it.
UNDISCOVERED = "endpoint is no longer discovered"

#: The component under which the stores page lists discovery names without
#: addresses: Thanos's name for an endpoint whose component is unknown.
UNRESOLVED_COMPONENT = "unknown-store-api"


@dataclass
class Endpoint:
    """One address and what it last announced."""

    address: str
    strict: bool = False
    channel: grpc.aio.Channel | None = None
    component: str | None = None
    label_sets: list[list[tuple[str, str]]] = field(default_factory=list)
    #: ``(min_time, max_time)`` in ms when the endpoint serves a StoreAPI.
    store: tuple[int, int] | None = None
    #: The other APIs it announced: ``rules``, ``targets``, ``metadata``,
    #: ``exemplars``.
    apis: frozenset[str] = frozenset()
    active: bool = False
    last_check: dt.datetime | None = None
    #: What Thanos's stores page says of the last Info call.
    last_error: str | None = None
    #: Why the store cannot serve data: its Info call's error while it is
    #: down, or the failure of its last data call while it is up.
    reason: str | None = None
    #: Set when the store is found down; calls in flight then fail at once.
    went_down: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def announced(self) -> bool:
        """Whether it ever announced a StoreAPI, and so still counts when down."""
        return self.store is not None

    @property
    def callable(self) -> bool:
        """Whether data calls go to it: up, or strict (Thanos calls those whatever their health)."""
        return self.active or self.strict

    def describe(self) -> str:
        """As Thanos names a store in warnings: address, label sets, time range."""
        sets = ",".join("{" + ", ".join(f'{n}="{v}"' for n, v in s) + "}" for s in self.label_sets)
        mint, maxt = self.time_range()
        return f"Addr: {self.address} LabelSets: {sets} Mint: {mint} Maxt: {maxt}"

    def time_range(self) -> tuple[int, int]:
        """``(min_time, max_time)`` in ms; all time for an endpoint that never
        announced one, as Thanos reports a strict endpoint it never reached."""
        return self.store or (STORE_MIN_TIME_MS, STORE_MAX_TIME_MS)

    def as_store(self) -> Store:
        """The form the Rust planner takes: (label sets, min time, max time)."""
        return (self.label_sets, *self.time_range())

    async def unless_down(self, call: Awaitable[T]) -> T:
        """``call``'s result, unless the store is found down first: then the
        call is cancelled and :class:`StoreError` says why."""
        if not self.active:
            return await call
        task = asyncio.ensure_future(call)
        waiter = asyncio.ensure_future(self.went_down.wait())
        try:
            done, _ = await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not task.done():
                task.cancel()
        if task in done:
            return task.result()
        raise StoreError(self.reason or DOWN)

    def data_failed(self, reason: str) -> None:
        """A data call failed: the stores page shows ``reason`` until a later
        call, or the next poll's probe, succeeds. (While the store is down,
        the reason is the poll's.)"""
        if self.active:
            self.reason = reason

    def data_served(self) -> None:
        if self.active:
            self.reason = None

    def status(self) -> dict:
        """One entry of ``/api/v1/stores``."""
        return {
            "name": self.address,
            "lastCheck": format_go_time(self.last_check),
            "lastError": self.last_error or self.reason,
            "labelSets": [dict(s) for s in self.label_sets],
            "minTime": self.time_range()[0],
            "maxTime": self.time_range()[1],
        }


def format_go_time(t: dt.datetime | None) -> str:
    """A time as Go's ``time.Time`` marshals to JSON (RFC 3339 with up to
    nanoseconds, trailing zeros dropped); the zero time when never checked."""
    if t is None:
        return "0001-01-01T00:00:00Z"
    t = t.astimezone(dt.timezone.utc)
    frac = f"{t.microsecond:06d}".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


class EndpointSet:
    """The endpoints of ``--endpoint``/``--store`` (and their strict forms)."""

    def __init__(
        self,
        addresses: Iterable[str],
        strict_addresses: Iterable[str] = (),
        *,
        channels: ChannelFactory,
        interval: float = UPDATE_INTERVAL,
    ) -> None:
        self._channels = channels
        self._interval = interval
        self._endpoints: dict[str, Endpoint] = {}
        for addr in strict_addresses:
            self._endpoints.setdefault(addr, Endpoint(addr, strict=True))
        for addr in addresses:
            if addr in self._endpoints:
                log.warning("duplicated address in endpoint flags, ignoring: %s", addr)
                continue
            self._endpoints[addr] = Endpoint(addr)
        #: The addresses of the flags, which discovery never removes.
        self._static = set(self._endpoints)
        #: Discovery names without addresses, and why.
        self._unresolved: dict[str, str] = {}
        self._first_update = asyncio.Event()
        self._wake = asyncio.Event()
        # Updates and discovery changes take turns, so that no endpoint is
        # closed while it is being checked.
        self._lock = asyncio.Lock()

    def stores(self) -> list[Endpoint]:
        """The endpoints a query counts: those that serve or served a StoreAPI,
        up or down, and strict ones whatever their health (Thanos keeps those
        with an unbounded range). The caller skips those that are not
        :attr:`Endpoint.callable` and reports them."""
        return [e for e in self._endpoints.values() if e.announced or e.strict]

    def serving(self, api: str) -> list[Endpoint]:
        """The healthy endpoints that announce ``api`` (one of ``rules``,
        ``targets``, ``metadata``, ``exemplars``), as Thanos's
        ``GetRulesClients`` and its siblings list them."""
        return [e for e in self._endpoints.values() if e.active and api in e.apis]

    def endpoints(self) -> list[Endpoint]:
        return sorted(self._endpoints.values(), key=lambda e: e.address)

    async def update(self) -> None:
        """Asks every endpoint for its Info, concurrently."""
        async with self._lock:
            await asyncio.gather(*(self._check(e) for e in self._endpoints.values()))
        self._first_update.set()

    async def set_discovered(self, addresses: Iterable[str], unresolved: dict[str, str] | None = None) -> None:
        """The addresses discovery found now (static ones may be among them):
        endpoints no longer found are closed and removed, new ones are
        checked at once. ``unresolved`` maps each discovery name that
        resolved to nothing to the reason, for the stores page."""
        wanted = dict.fromkeys(addresses)
        added = False
        async with self._lock:
            self._unresolved = dict(unresolved or {})
            for addr in [a for a in self._endpoints if a not in self._static and a not in wanted]:
                e = self._endpoints.pop(addr)
                log.info("%s address=%s", UNDISCOVERED, addr)
                self._down(e, UNDISCOVERED)
                if e.channel is not None:
                    await e.channel.close()
                    e.channel = None
            for addr in wanted:
                if addr not in self._endpoints:
                    self._endpoints[addr] = Endpoint(addr)
                    added = True
        if added:
            self._wake.set()

    async def _check(self, e: Endpoint) -> None:
        if e.channel is None:
            e.channel = self._channels.channel(e.address)
        try:
            info = await self._info(e.channel)
        except grpc.aio.AioRpcError as err:
            was_active = e.active
            self._down(e, rpc_error_text(err))
            e.last_error = UNHEALTHY_MESSAGE if was_active else rpc_error_text(err)
            if was_active:
                log.info("%s address=%s", UNHEALTHY_MESSAGE, e.address)
            return
        except ThanosRsError as err:
            self._down(e, str(err))
            e.last_error = str(err)
            return
        if not e.active:
            log.info("adding new %s address=%s", info["component"] or "endpoint", e.address)
            e.went_down = asyncio.Event()
            e.reason = None
        e.component = info["component"] or None
        e.label_sets = info["label_sets"]
        e.store = info["store"]
        e.apis = frozenset(info["apis"])
        e.active = True
        e.last_check = dt.datetime.now(dt.timezone.utc)
        e.last_error = None
        if e.store is not None:
            await self._probe(e)

    @staticmethod
    def _down(e: Endpoint, reason: str) -> None:
        e.active = False
        e.reason = f"{DOWN}: {reason}"
        e.went_down.set()

    async def _probe(self, e: Endpoint) -> None:
        """Asks a store for its label names over the present instant: cheap
        everywhere, and through a sidecar it reaches Prometheus. Success
        clears a data call's failure; a failure records why."""
        now_ms = int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
        q = _core.LabelsQuery(None, [], now_ms, now_ms, False)
        try:
            for _, _, request in q.calls([e.as_store()]):
                await e.channel.unary_unary(LABEL_NAMES)(request, timeout=INFO_TIMEOUT)
        except grpc.aio.AioRpcError as err:
            e.data_failed(rpc_error_text(err))
            return
        e.data_served()

    async def _info(self, channel: grpc.aio.Channel) -> dict:
        try:
            raw = await channel.unary_unary(INFO)(b"", timeout=INFO_TIMEOUT)
            return _core.decode_info(raw)
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
        # Stores older than Thanos v0.24 only have the StoreAPI's own Info.
        raw = await channel.unary_unary(LEGACY_STORE_INFO)(b"", timeout=INFO_TIMEOUT)
        return _core.decode_info(raw, legacy=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Updates every interval until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.update()
            except Exception:  # a bug here must not end the polling
                log.exception("updating endpoints failed")
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            self._wake.clear()

    async def wait_first_update(self) -> None:
        await self._first_update.wait()

    def statuses(self) -> dict[str, list[dict]]:
        """``/api/v1/stores``: endpoints by component; those whose component
        was never learned are left out, as in Thanos. Discovery names that
        resolve to nothing are listed under :data:`UNRESOLVED_COMPONENT`
        with the reason as their error (Thanos only logs them)."""
        out: dict[str, list[dict]] = {}
        for e in self.endpoints():
            if e.component:
                out.setdefault(e.component, []).append(e.status())
        for name, reason in sorted(self._unresolved.items()):
            entry = Endpoint(name, last_error=f"{name} does not resolve: {reason}").status()
            out.setdefault(UNRESOLVED_COMPONENT, []).append(entry)
        return out

    async def close(self) -> None:
        for e in self._endpoints.values():
            if e.channel is not None:
                await e.channel.close()
                e.channel = None

