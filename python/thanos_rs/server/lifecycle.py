"""Running a component in the foreground until SIGINT or SIGTERM, then
stopping it cleanly and quickly (the contract: within 10 seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: The longest a component waits for in-flight requests when stopping. Thanos's
#: grace periods default to 2 minutes; we promise to be gone within 10 s.
MAX_GRACE = 5.0


def grace(flag_seconds: float) -> float:
    return min(flag_seconds, MAX_GRACE)


class Prober:
    """``/-/healthy`` and ``/-/ready``, and the gRPC health service."""

    def __init__(self) -> None:
        self.healthy = True
        self.ready = False
        self.not_ready_reason = "starting"
        #: Called by ``/-/ready`` before it answers, to look again at what
        #: readiness depends on (the sidecar: whether Prometheus answers).
        self.confirm: Callable[[], Awaitable[object]] | None = None

    def set_ready(self) -> None:
        self.ready = True
        self.not_ready_reason = ""

    def set_not_ready(self, reason: str) -> None:
        self.ready = False
        self.not_ready_reason = reason


def run(main: Callable[[asyncio.Event], Awaitable[int | None]]) -> int:
    """Runs ``main(stop)`` on an event loop (uvloop where installed); ``stop``
    is set on SIGINT or SIGTERM. Returns the exit code."""

    async def runner() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _on_signal, stop, sig)
        try:
            return (await main(stop)) or 0
        except OSError as e:
            # Listening failed (a busy port, a bad address): say so and exit.
            log.error("cannot start: %s", e)
            return 1

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; kept optional for odd platforms
        return asyncio.run(runner())
    return uvloop.run(runner())


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    if stop.is_set():
        return
    log.info("caught signal. Exiting. signal=%s", sig.name.lower().removeprefix("sig"))
    stop.set()


async def sleep(stop: asyncio.Event, seconds: float) -> None:
    """Waits ``seconds``, or less when ``stop`` is set meanwhile."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
