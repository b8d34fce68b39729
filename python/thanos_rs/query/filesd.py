"""File discovery of endpoints (``--store.sd-files``): Prometheus's file-SD
format, a YAML or JSON list of ``{targets: [...], labels: {...}}`` groups, of
which the querier takes the targets.

As Prometheus's ``discovery/file``: each pattern is a glob; files are read
again when they change and every refresh interval; a file that cannot be read
or parsed keeps the targets it last gave (and the error is logged), and a file
that is gone gives none. Changes are seen by polling the files' sizes, times
and inodes every second, which also sees files that a glob starts to match.
"""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import os
import re
from collections.abc import Iterable

import yaml

from thanos_rs.errors import FileSDError

log = logging.getLogger(__name__)

#: Prometheus's rule for file-SD paths: a glob only in the last path element,
#: and a JSON or YAML extension.
_VALID_PATH = re.compile(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")
#: How often the files are looked at for changes.
WATCH_INTERVAL = 1.0
#: The largest file read: a list of store addresses is kilobytes; a file past
#: this is refused (keeping its last targets) rather than held in memory.
MAX_FILE_BYTES = 16 << 20


def check_pattern(pattern: str) -> None:
    """Refuses a path Prometheus's file discovery refuses."""
    if not _VALID_PATH.match(pattern):
        raise FileSDError(f'path name "{pattern}" is not valid for file discovery')


def parse_targets(text: str, path: str) -> list[str]:
    """The targets of a file-SD file's content, in order; the extension of
    ``path`` says whether it is JSON or YAML."""
    is_json = path.lower().endswith(".json")
    try:
        groups = json.loads(text) if is_json else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise FileSDError(str(err)) from None
    if groups is None and not is_json:
        return []
    if not isinstance(groups, list):
        raise FileSDError("not a list of target groups")
    targets: list[str] = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            raise FileSDError(f"target group {i} is not a mapping" if group is not None
                              else "nil target group item found")
        unknown = set(group) - {"targets", "labels"}
        if unknown and not is_json:
            raise FileSDError(f"field {sorted(unknown)[0]} not found in type struct")
        group_targets = group.get("targets") or []
        labels = group.get("labels") or {}
        if not isinstance(group_targets, list) or not all(isinstance(t, str) for t in group_targets):
            raise FileSDError(f"target group {i}: targets are not a list of strings")
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise FileSDError(f"target group {i}: labels are not a mapping of strings")
        targets += group_targets
    return targets


def _read(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FileSDError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    return data.decode()


class FileSD:
    """The targets of the files matched by some glob patterns."""

    def __init__(self, patterns: Iterable[str], refresh_interval: float = 300.0) -> None:
        self.patterns = list(patterns)
        for p in self.patterns:
            check_pattern(p)
        self.refresh_interval = refresh_interval
        self._last: dict[str, list[str]] = {}
        self._seen: tuple = ()

    def files(self) -> list[str]:
        return sorted({f for p in self.patterns for f in glob.glob(p)})

    def _signature(self) -> tuple:
        sig = []
        for f in self.files():
            try:
                st = os.stat(f)
            except OSError:
                continue
            sig.append((f, st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(sig)

    def refresh(self) -> list[str]:
        """Reads every file again; returns all targets without repeats."""
        self._seen = self._signature()
        current: dict[str, list[str]] = {}
        for f in self.files():
            try:
                current[f] = parse_targets(_read(f), f)
            except (OSError, UnicodeDecodeError, FileSDError) as err:
                log.error("Error reading file path=%s err=%s", f, err)
                if f in self._last:
                    current[f] = self._last[f]
        self._last = current
        return self.targets()

    def targets(self) -> list[str]:
        return list(dict.fromkeys(t for ts in self._last.values() for t in ts))

    def changed(self) -> bool:
        """Whether the matched files differ from those last read."""
        return self._signature() != self._seen

    async def watch(self, stop: asyncio.Event, changed: asyncio.Event) -> None:
        """Sets ``changed`` when a file changes, and every refresh interval."""
        loop = asyncio.get_running_loop()
        due = loop.time() + self.refresh_interval
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), WATCH_INTERVAL)
            except asyncio.TimeoutError:
                pass
            if loop.time() >= due or self.changed():
                due = loop.time() + self.refresh_interval
                changed.set()
