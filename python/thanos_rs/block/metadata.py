"""A block's ``meta.json``: Prometheus's fields (``tsdb/block.go``'s
``BlockMeta``) and the ``thanos`` section Thanos adds when a block enters
object storage (``pkg/block/metadata/meta.go`` at v0.26). Every reader of
ours reads it as :class:`Meta`, checked by the same Rust check as the TSDB
reader's.

Writers change the document itself (:attr:`Meta.raw`): Thanos keeps fields it
does not know, and so do we, in the order they were written."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thanos_rs import _core

META_FILENAME = "meta.json"
INDEX_FILENAME = "index"
CHUNKS_DIRNAME = "chunks"
#: Sources Thanos writes into ``thanos.source`` (``SourceType``).
SIDECAR_SOURCE = "sidecar"

#: A meta.json document as stored.
Document = dict[str, Any]


@dataclass(frozen=True)
class Meta:
    """A block's ``meta.json``. ``raw`` is the document as stored (for
    ``tools bucket ls -o json``); the other fields are read from it, with
    Thanos's defaults for a block without a ``thanos`` section."""

    ulid: str
    min_time: int
    max_time: int
    num_series: int
    num_samples: int
    num_chunks: int
    compaction_level: int
    compaction_failed: bool
    labels: dict[str, str]
    #: ``thanos.downsample.resolution`` in ms: 0 raw, 300000 (5m), 3600000 (1h).
    resolution: int
    #: ``thanos.source``: ``sidecar``, ``compactor``, ... or empty.
    source: str
    segment_files: list[str]
    #: ``thanos.files``: relative path -> size in bytes (0 when not recorded).
    files: dict[str, int]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, name: str, data: bytes) -> Meta:
        """Checks ``data`` as the TSDB reader checks a meta.json (version,
        ULID, time range) and reads it; :class:`CorruptBlockError` names
        ``name`` when it does not hold."""
        checked = json.loads(_core.parse_block_meta(name, data))
        thanos = checked.get("thanos") or {}
        stats = checked["stats"]
        return cls(
            ulid=checked["ulid"],
            min_time=checked["minTime"],
            max_time=checked["maxTime"],
            num_series=stats["numSeries"],
            num_samples=stats["numSamples"],
            num_chunks=stats["numChunks"],
            compaction_level=checked["compaction"]["level"],
            compaction_failed=checked["compaction"].get("failed", False),
            labels=dict(thanos.get("labels") or {}),
            resolution=thanos.get("downsample", {}).get("resolution", 0),
            source=thanos.get("source", ""),
            segment_files=list(thanos.get("segment_files") or []),
            files={f["rel_path"]: f.get("size_bytes", 0) for f in thanos.get("files") or []},
            raw=json.loads(data),
        )

    @property
    def num_tombstones(self) -> int:
        return self.raw.get("stats", {}).get("numTombstones", 0)

    @property
    def sources(self) -> list[str]:
        """``compaction.sources``: the ULIDs of the level-1 blocks it holds."""
        return list(self.raw.get("compaction", {}).get("sources") or [self.ulid])

    @property
    def group_key(self) -> str:
        """The compaction group (``Thanos.GroupKey``): resolution and the
        hash of the external labels."""
        return f"{self.resolution}@{_core.labels_hash(sorted(self.labels.items()))}"

    @classmethod
    def read(cls, block_dir: Path) -> Meta:
        """The ``meta.json`` of a block directory."""
        path = block_dir / META_FILENAME
        return cls.parse(str(path), path.read_bytes())


def encode(document: Document) -> bytes:
    """JSON as Go's encoder with a tab indent writes it (``Meta.Write``)."""
    return (json.dumps(document, indent="\t") + "\n").encode()


def write(block_dir: Path, document: Document) -> None:
    """Writes ``meta.json`` atomically (a temporary file renamed), as Thanos does."""
    path = block_dir / META_FILENAME
    tmp = path.with_name(META_FILENAME + ".tmp")
    tmp.write_bytes(encode(document))
    os.replace(tmp, path)


def with_thanos(document: Document, labels: dict[str, str], source: str, segment_files: list[str]) -> Document:
    """``document`` with the section a shipper attaches: the external labels,
    raw resolution, the source, and the chunk segment files (v0.26's ``upload``)."""
    thanos = dict(document.get("thanos") or {})
    thanos["labels"] = dict(thanos.get("labels") or {}) | labels
    thanos.setdefault("downsample", {"resolution": 0})
    thanos["source"] = source
    if segment_files:
        thanos["segment_files"] = segment_files
    return document | {"thanos": thanos}
