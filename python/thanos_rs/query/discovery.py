"""Keeps the querier's endpoints in step with discovery (the loops of
``cmd/thanos/query.go`` at v0.26.0): the addresses of ``--store``/``--endpoint``
and the targets of ``--store.sd-files`` are resolved through DNS every
``--store.sd-dns-interval``, and at once whenever the files change; the
endpoint set then adds what is new and drops what is gone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from thanos_rs.query.dns_sd import Provider
from thanos_rs.query.endpoints import EndpointSet
from thanos_rs.query.filesd import FileSD

log = logging.getLogger(__name__)


class Discovery:
    def __init__(
        self,
        endpoints: EndpointSet,
        addresses: Iterable[str],
        file_sd: FileSD | None = None,
        provider: Provider | None = None,
        dns_interval: float = 30.0,
    ) -> None:
        self.endpoints = endpoints
        self.addresses = list(addresses)
        self.file_sd = file_sd
        self.provider = provider or Provider(timeout=dns_interval)
        self.dns_interval = dns_interval

    async def refresh(self, reread_files: bool = False) -> None:
        """Resolves every name again (after reading the files again, if asked)
        and hands the addresses to the endpoint set."""
        file_targets: list[str] = []
        if self.file_sd is not None:
            # Read in a thread: files are read whole, off the event loop.
            file_targets = await asyncio.to_thread(self.file_sd.refresh) if reread_files else self.file_sd.targets()
        await self.provider.resolve(file_targets + self.addresses)
        await self.endpoints.set_discovered(self.provider.addresses(), self.provider.unresolved)

    async def run(self, stop: asyncio.Event) -> None:
        """Refreshes until ``stop`` is set: the files when they change, DNS every interval."""
        files_changed = asyncio.Event()
        watcher = None
        if self.file_sd is not None:
            watcher = asyncio.create_task(self.file_sd.watch(stop, files_changed))
        loop = asyncio.get_running_loop()
        due = loop.time() + self.dns_interval
        try:
            while not stop.is_set():
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(files_changed.wait())]
                try:
                    await asyncio.wait(waits, timeout=max(due - loop.time(), 0),
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
                if stop.is_set():
                    break
                reread = files_changed.is_set()
                files_changed.clear()
                if loop.time() >= due:
                    due = loop.time() + self.dns_interval
                try:
                    await self.refresh(reread_files=reread)
                except Exception:  # a bug here must not end discovery
                    log.exception("refreshing discovered endpoints failed")
        finally:
            if watcher is not None:
                await watcher
