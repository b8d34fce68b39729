"""Keeps Prometheus's configuration and rules applied (``pkg/reloader`` at
v0.26.0): watches the config file and rule directories, writes the
environment-substituted config, and asks Prometheus to reload whenever what it
reads has changed.

Watching is both event-driven (watchfiles, so edits apply within a second) and
periodic (``--reloader.watch-interval``, which also catches what events miss).
Changes are detected by content hash, so an event that changes nothing costs a
re-read and no reload. A failed reload is retried every
``--reloader.retry-interval``, and given up for a fresh apply as soon as the
files change again (Thanos keeps retrying the old content until its next tick).
A missing or broken file is logged and retried at the next event or tick: the
reloader never stops the sidecar (Thanos exits when the first apply fails).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import watchfiles
from prometheus_client import CollectorRegistry, Counter, Gauge

from thanos_rs.errors import ReloaderError

log = logging.getLogger("reloader")

# Only Kubernetes-style $(VAR): $VAR and ${VAR} are left alone, as Prometheus
# configs use them for relabeling references such as ${1}.
_ENV_VAR = re.compile(rb"\$\(([a-zA-Z_0-9]+)\)")
# gzip's magic number and the deflate method byte (RFC 1952).
_GZIP_MAGIC = b"\x1f\x8b\x08"
# Events are coalesced for this long, so an editor's write-rename-chmod is one apply.
_DEBOUNCE_MS = 100


def expand_env(text: bytes, env: dict[str, str] | os._Environ = os.environ) -> bytes:
    """Replaces each ``$(VAR)`` with the variable's value; an unset variable is
    an error, so a half-substituted config is never written."""

    def value(m: re.Match) -> bytes:
        name = m.group(1).decode()
        if name not in env:
            raise ReloaderError(f'found reference to unset environment variable "{name}"')
        return env[name].encode()

    return _ENV_VAR.sub(value, text)


def _hash_file(h: hashlib._Hash, path: Path) -> None:
    # The name is hashed too, so renaming a rule file counts as a change.
    h.update(b"\xff" + str(path).encode() + b"\xff")
    h.update(path.read_bytes())


class _Metrics:
    def __init__(self, registry: CollectorRegistry, prefix: str) -> None:
        def name(n: str) -> str:
            return prefix + n

        self.reloads = Counter(name("reloader_reloads_total"), "Total number of reload requests.", registry=registry)
        self.reload_errors = Counter(name("reloader_reloads_failed_total"),
                                     "Total number of reload requests that failed.", registry=registry)
        self.last_success = Gauge(name("reloader_last_reload_successful"),
                                  "Whether the last reload attempt was successful", registry=registry)
        self.last_success_time = Gauge(name("reloader_last_reload_success_timestamp_seconds"),
                                       "Timestamp of the last successful reload", registry=registry)
        self.applies = Counter(name("reloader_config_apply_operations_total"),
                               "Total number of config apply operations.", registry=registry)
        self.apply_errors = Counter(name("reloader_config_apply_operations_failed_total"),
                                    "Total number of config apply operations that failed.", registry=registry)
        self.watches = Gauge(name("reloader_watches"), "Number of resources watched by the reloader.",
                             registry=registry)
        self.watch_events = Counter(name("reloader_watch_events_total"),
                                    "Total number of events received by the reloader from the watcher.",
                                    registry=registry)
        self.watch_errors = Counter(name("reloader_watch_errors_total"),
                                    "Total number of errors received by the reloader from the watcher.",
                                    registry=registry)


class Reloader:
    """``reload`` is the call that makes Prometheus re-read its files
    (``POST /-/reload``); it raises on failure."""

    def __init__(
        self,
        reload: Callable[[], Awaitable[None]],
        registry: CollectorRegistry,
        *,
        config_file: str = "",
        config_envsubst_file: str = "",
        rule_dirs: Sequence[str] = (),
        watch_interval: float = 180.0,
        retry_interval: float = 5.0,
        metrics_prefix: str = "thanos_sidecar_",
    ) -> None:
        self._reload = reload
        self.config_file = Path(config_file) if config_file else None
        self.output_file = Path(config_envsubst_file) if config_envsubst_file else None
        self.rule_dirs = [Path(d) for d in rule_dirs]
        self.watch_interval = watch_interval
        self.retry_interval = retry_interval
        self.metrics = _Metrics(registry, metrics_prefix)
        self._last_hashes: tuple[bytes, bytes] | None = None
        self._changed = asyncio.Event()
        # Ends the current file watch: set to renew it, or to stop.
        self._renew = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Applies at once, then on every change and every watch interval,
        until ``stop`` is set."""
        if self.config_file is None and not self.rule_dirs:
            log.info("nothing to be watched")
            return
        if self.watch_interval == 0:
            # Substitution only: no watching and no reload.
            await self._apply_and_count(deadline=None)
            return
        # Watching starts first, so that a file fixed while the first reload
        # is still being retried is seen.
        watcher = asyncio.create_task(self._watch(stop))
        log.info("started watching config file and directories for changes cfg=%s out=%s dirs=%s",
                 self.config_file or "", self.output_file or "", ",".join(map(str, self.rule_dirs)))
        try:
            # The first apply retries its reload for as long as it takes.
            await self._apply_and_count(deadline=None)
            while not stop.is_set():
                await self._wait_for_change(stop)
                if stop.is_set():
                    break
                # Later ones give up at the next tick, which applies again anyway.
                await self._apply_and_count(deadline=time.monotonic() + self.watch_interval)
        finally:
            # watchfiles polls this event between steps, so the watch ends
            # quickly; cancelling alone would wait out its blocking call.
            self._renew.set()
            try:
                await asyncio.wait_for(watcher, timeout=2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass

    async def _wait_for_change(self, stop: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._changed.wait())]
        try:
            await asyncio.wait(waits, timeout=self.watch_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        self._changed.clear()

    def _watched_paths(self) -> list[Path]:
        """The config file's folder (editors and Kubernetes replace files by
        renaming, which only the folder sees) and the rule folders that exist."""
        paths = []
        if self.config_file is not None:
            paths.append(self.config_file.parent.resolve())
        paths += [d.resolve() for d in self.rule_dirs]
        return [p for p in dict.fromkeys(paths) if p.is_dir()]

    async def _watch(self, stop: asyncio.Event) -> None:
        """Sets the change flag on file events; folders that appear later are
        picked up when the watch is renewed, every watch interval."""
        wanted = {self.config_file.resolve()} if self.config_file is not None else set()
        while not stop.is_set():
            paths = self._watched_paths()
            self.metrics.watches.set(len(paths))
            if not paths:
                await asyncio.sleep(self.watch_interval)
                continue
            self._renew = renew = asyncio.Event()
            timer = asyncio.get_running_loop().call_later(self.watch_interval, renew.set)
            try:
                async for changes in watchfiles.awatch(*paths, stop_event=renew, debounce=_DEBOUNCE_MS,
                                                       recursive=True, watch_filter=None):
                    self.metrics.watch_events.inc(len(changes))
                    if any(self._relevant(Path(p), wanted) for _, p in changes):
                        self._changed.set()
            except (OSError, RuntimeError) as e:
                self.metrics.watch_errors.inc()
                log.warning("watch error err=%s", e)
                await asyncio.sleep(min(self.watch_interval, self.retry_interval))
            finally:
                timer.cancel()

    def _relevant(self, path: Path, config: set[Path]) -> bool:
        if path.resolve() in config:
            return True
        return any(path.is_relative_to(d.resolve()) for d in self.rule_dirs)

    async def _apply_and_count(self, deadline: float | None) -> None:
        self.metrics.applies.inc()
        try:
            await self.apply(deadline)
        except (ReloaderError, OSError) as e:
            self.metrics.apply_errors.inc()
            log.error("apply error err=%s", e)

    async def apply(self, deadline: float | None) -> None:
        """Writes the substituted config and reloads Prometheus if the config
        or any rule file changed since the last successful reload."""
        config_hash = b""
        if self.config_file is not None:
            h = hashlib.sha256()
            try:
                _hash_file(h, self.config_file)
            except OSError as e:
                raise ReloaderError(f"hash file: {e}") from None
            config_hash = h.digest()
            if self.output_file is not None:
                self._write_output()
        rules_hash = self._hash_rules()
        if self._last_hashes == (config_hash, rules_hash) or self.watch_interval == 0:
            return
        if await self._trigger(deadline):
            self._last_hashes = (config_hash, rules_hash)

    def _write_output(self) -> None:
        assert self.config_file is not None and self.output_file is not None
        try:
            text = self.config_file.read_bytes()
        except OSError as e:
            raise ReloaderError(f"read file: {e}") from None
        if text[:3] == _GZIP_MAGIC:
            try:
                text = gzip.decompress(text)
            except (OSError, EOFError) as e:
                raise ReloaderError(f"read compressed config file: {e}") from None
        try:
            text = expand_env(text)
        except ReloaderError as e:
            raise ReloaderError(f"expand environment variables: {e}") from None
        # Written beside the target and renamed over it, so Prometheus never
        # reads half a file.
        tmp = self.output_file.with_name(self.output_file.name + ".tmp")
        try:
            tmp.write_bytes(text)
            tmp.chmod(0o644)
            os.replace(tmp, self.output_file)
        except OSError as e:
            raise ReloaderError(f"write file: {e}") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _hash_rules(self) -> bytes:
        if not self.rule_dirs:
            return b""
        h = hashlib.sha256()
        for d in self.rule_dirs:
            try:
                root = d.resolve(strict=True)
                # Files in walk order, following symbolic links to files (a
                # Kubernetes ConfigMap mount is all links).
                for folder, dirs, files in os.walk(root):
                    dirs.sort()
                    for name in sorted(files):
                        path = Path(folder) / name
                        if path.is_file():
                            _hash_file(h, path)
            except OSError as e:
                raise ReloaderError(f"build hash: {e}") from None
        return h.digest()

    async def _trigger(self, deadline: float | None) -> bool:
        """POSTs the reload, retrying every retry interval until it works or
        the deadline passes. Returns False, without reloading, when the files
        change meanwhile: they are applied afresh instead of retrying a reload
        of what they were."""
        while True:
            self.metrics.reloads.inc()
            try:
                await self._reload()
            except Exception as e:  # noqa: BLE001 - whatever failed, the reload is retried
                self.metrics.reload_errors.inc()
                self.metrics.last_success.set(0)
                if deadline is not None and time.monotonic() + self.retry_interval > deadline:
                    raise ReloaderError(f"trigger reload: {e}") from None
                log.error("Failed to trigger reload. Retrying. err=%s", e)
                try:
                    await asyncio.wait_for(self._changed.wait(), self.retry_interval)
                except asyncio.TimeoutError:
                    continue
                return False
            self.metrics.last_success.set(1)
            self.metrics.last_success_time.set(time.time())
            log.info("Reload triggered cfg_in=%s cfg_out=%s watched_dirs=%s", self.config_file or "",
                     self.output_file or "", ", ".join(map(str, self.rule_dirs)))
            return True
