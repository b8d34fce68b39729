"""A block's ``meta.json``: Prometheus's fields (``tsdb/block.go``'s
``BlockMeta``) and the ``thanos`` section Thanos adds when a block enters
object storage (``pkg/block/metadata/meta.go`` at v0.26).

Metadata stays a JSON object here: Thanos keeps fields it does not know, and
so do we, in the order they were written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from thanos_rs import _core
from thanos_rs.objstore.block import META_FILENAME

INDEX_FILENAME = "index"
CHUNKS_DIRNAME = "chunks"
#: Sources Thanos writes into ``thanos.source`` (``SourceType``).
SIDECAR_SOURCE = "sidecar"

Meta = dict[str, Any]


def read(block_dir: Path) -> Meta:
    """The ``meta.json`` of a block directory, checked as Thanos checks it."""
    path = block_dir / META_FILENAME
    return parse(path.read_bytes(), str(path))


def parse(data: bytes, where: str) -> Meta:
    """``data`` as a JSON object, once it passes the checks every reader of
    ours makes (Rust's, raising :class:`CorruptBlockError`)."""
    _core.parse_block_meta(where, data)
    return json.loads(data)


def encode(meta: Meta) -> bytes:
    """JSON as Go's encoder with a tab indent writes it (``Meta.Write``)."""
    return (json.dumps(meta, indent="\t") + "\n").encode()


def write(block_dir: Path, meta: Meta) -> None:
    """Writes ``meta.json`` atomically (a temporary file renamed), as Thanos does."""
    path = block_dir / META_FILENAME
    tmp = path.with_name(META_FILENAME + ".tmp")
    tmp.write_bytes(encode(meta))
    os.replace(tmp, path)


def num_samples(meta: Meta) -> int:
    return int(meta.get("stats", {}).get("numSamples", 0))


def compaction_level(meta: Meta) -> int:
    return int(meta.get("compaction", {}).get("level", 1))


def with_thanos(meta: Meta, labels: dict[str, str], source: str, segment_files: list[str]) -> Meta:
    """``meta`` with the section a shipper attaches: the external labels, raw
    resolution, the source, and the chunk segment files (v0.26's ``upload``)."""
    thanos = dict(meta.get("thanos") or {})
    thanos["labels"] = dict(thanos.get("labels") or {}) | labels
    thanos.setdefault("downsample", {"resolution": 0})
    thanos["source"] = source
    if segment_files:
        thanos["segment_files"] = segment_files
    return meta | {"thanos": thanos}
