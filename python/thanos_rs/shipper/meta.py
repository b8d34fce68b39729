"""``thanos.shipper.json``: the blocks a shipper has uploaded, kept in the
data directory so that a restarted sidecar does not ask the bucket about each
of them again (``ReadMetaFile``/``WriteMetaFile`` in ``pkg/shipper``). Losing
it costs one ``exists`` call per block, never a second upload."""

from __future__ import annotations

import json
import os
from pathlib import Path

META_FILENAME = "thanos.shipper.json"
#: ``MetaVersion1``, the only version Thanos writes and reads.
META_VERSION = 1


def read(data_dir: Path) -> list[str]:
    """The uploaded ULIDs; FileNotFoundError without the file, ValueError when it is damaged."""
    meta = json.loads((data_dir / META_FILENAME).read_bytes())
    if not isinstance(meta, dict) or meta.get("version") != META_VERSION:
        raise ValueError(f"unexpected meta file version {meta.get('version') if isinstance(meta, dict) else meta!r}")
    uploaded = meta.get("uploaded") or []
    if not isinstance(uploaded, list) or not all(isinstance(u, str) for u in uploaded):
        raise ValueError("'uploaded' is not a list of block IDs")
    return uploaded


def write(data_dir: Path, uploaded: list[str]) -> None:
    """Writes the file atomically: a temporary file renamed over it."""
    path = data_dir / META_FILENAME
    tmp = path.with_name(META_FILENAME + ".tmp")
    # Go's json.Encoder with a tab indent, as Thanos writes it.
    tmp.write_text(json.dumps({"version": META_VERSION, "uploaded": uploaded}, indent="\t") + "\n")
    os.replace(tmp, path)
