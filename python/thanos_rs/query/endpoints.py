"""The querier's endpoints: one gRPC channel per address, polled with the Info
API every 5 seconds as Thanos's ``EndpointSet`` does, so that a store that
starts later, dies or comes back is followed. The status of each endpoint
feeds ``/api/v1/stores`` and the stores page."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc

from thanos_rs import _core
from thanos_rs.errors import ThanosRsError
from thanos_rs.query.grpc_client import INFO, LEGACY_STORE_INFO, ChannelFactory, rpc_error_text

log = logging.getLogger(__name__)

#: How often endpoints are asked for their Info, and how long each may take
#: (Thanos v0.26: ``runutil.Repeat(5*time.Second, ...)`` with a 5 s context).
UPDATE_INTERVAL = 5.0
INFO_TIMEOUT = 5.0

#: What Thanos records when a healthy endpoint stops answering.
UNHEALTHY_MESSAGE = "removing endpoint because it's unhealthy or does not exist"

#: The time range Thanos reports for a strict endpoint it never reached.
MIN_TIME = -(2**63)
MAX_TIME = 2**63 - 1


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
    active: bool = False
    last_check: dt.datetime | None = None
    last_error: str | None = None

    def describe(self) -> str:
        """As Thanos names a store in warnings: address, label sets, time range."""
        sets = ",".join("{" + ", ".join(f'{n}="{v}"' for n, v in s) + "}" for s in self.label_sets)
        mint, maxt = self.store or (MIN_TIME, MAX_TIME)
        return f"Addr: {self.address} LabelSets: {sets} Mint: {mint} Maxt: {maxt}"

    def as_store(self) -> tuple[list[list[tuple[str, str]]], int, int]:
        """The form the Rust planner takes: (label sets, min time, max time)."""
        mint, maxt = self.store or (MIN_TIME, MAX_TIME)
        return self.label_sets, mint, maxt

    def status(self) -> dict:
        """One entry of ``/api/v1/stores``."""
        return {
            "name": self.address,
            "lastCheck": format_go_time(self.last_check),
            "lastError": self.last_error,
            "labelSets": [dict(s) for s in self.label_sets],
            "minTime": (self.store or (MIN_TIME, MAX_TIME))[0],
            "maxTime": (self.store or (MIN_TIME, MAX_TIME))[1],
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
        unhealthy_timeout: float = 300.0,
        interval: float = UPDATE_INTERVAL,
    ) -> None:
        self._channels = channels
        self._unhealthy_timeout = unhealthy_timeout
        self._interval = interval
        self._endpoints: dict[str, Endpoint] = {}
        for addr in strict_addresses:
            self._endpoints.setdefault(addr, Endpoint(addr, strict=True))
        for addr in addresses:
            if addr in self._endpoints:
                log.warning("duplicated address in endpoint flags, ignoring: %s", addr)
                continue
            self._endpoints[addr] = Endpoint(addr)
        self._first_update = asyncio.Event()

    def stores(self) -> list[Endpoint]:
        """The endpoints to query: active ones that serve a StoreAPI, and strict
        ones whatever their health (Thanos keeps those with an unbounded range)."""
        return [e for e in self._endpoints.values() if (e.active and e.store is not None) or e.strict]

    def endpoints(self) -> list[Endpoint]:
        return sorted(self._endpoints.values(), key=lambda e: e.address)

    async def update(self) -> None:
        """Asks every endpoint for its Info, concurrently."""
        await asyncio.gather(*(self._check(e) for e in self._endpoints.values()))
        now = dt.datetime.now(dt.timezone.utc)
        for e in self._endpoints.values():
            if not e.active and e.last_check and (now - e.last_check).total_seconds() > self._unhealthy_timeout:
                # Thanos forgets the status of a long-dead endpoint; it reappears
                # on the stores page once it answers again.
                e.component, e.label_sets, e.store, e.last_check = None, [], None, None
        self._first_update.set()

    async def _check(self, e: Endpoint) -> None:
        if e.channel is None:
            e.channel = self._channels.channel(e.address)
        try:
            info = await self._info(e.channel)
        except grpc.aio.AioRpcError as err:
            was_active = e.active
            e.active = False
            e.last_error = UNHEALTHY_MESSAGE if was_active else rpc_error_text(err)
            if was_active:
                log.info("%s address=%s", UNHEALTHY_MESSAGE, e.address)
            return
        except ThanosRsError as err:
            e.active = False
            e.last_error = str(err)
            return
        if not e.active:
            log.info("adding new %s address=%s", info["component"] or "endpoint", e.address)
        e.component = info["component"] or None
        e.label_sets = info["label_sets"]
        e.store = info["store"]
        e.active = True
        e.last_check = dt.datetime.now(dt.timezone.utc)
        e.last_error = None

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
            try:
                await asyncio.wait_for(stop.wait(), self._interval)
            except asyncio.TimeoutError:
                pass

    async def wait_first_update(self) -> None:
        await self._first_update.wait()

    def statuses(self) -> dict[str, list[dict]]:
        """``/api/v1/stores``: endpoints by component; those whose component
        was never learned are left out, as in Thanos."""
        out: dict[str, list[dict]] = {}
        for e in self.endpoints():
            if e.component:
                out.setdefault(e.component, []).append(e.status())
        return out

    async def close(self) -> None:
        for e in self._endpoints.values():
            if e.channel is not None:
                await e.channel.close()
                e.channel = None

