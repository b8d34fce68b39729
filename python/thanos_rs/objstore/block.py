"""Blocks in a bucket, as Thanos lays them out: one directory per block named
by its ULID, holding ``meta.json`` (Prometheus's fields and Thanos's
``thanos`` section), ``index``, ``chunks/`` and, once the compactor has
decided to remove it, ``deletion-mark.json`` (``pkg/block/metadata`` and
``pkg/block/fetcher.go`` at Thanos v0.26.0).

Thanos's shipper uploads ``meta.json`` last, so a directory without one is a
partial upload (or a deletion in progress): readers skip it.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from thanos_rs import _core
from thanos_rs.errors import CorruptBlockError, ObjectNotFoundError
from thanos_rs.objstore import DIR_DELIM, Bucket

META_FILENAME = "meta.json"
DELETION_MARK_FILENAME = "deletion-mark.json"

#: A ULID: 26 characters of Crockford's base32, the first at most 7.
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

#: Thanos's `block.FetcherConcurrency`: metas read at once.
FETCHER_CONCURRENCY = 32


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
            compaction_failed=checked["compaction"]["failed"],
            labels=dict(thanos.get("labels") or {}),
            resolution=thanos.get("downsample", {}).get("resolution", 0),
            source=thanos.get("source", ""),
            segment_files=list(thanos.get("segment_files") or []),
            files={f["rel_path"]: f.get("size_bytes", 0) for f in thanos.get("files") or []},
            raw=json.loads(data),
        )


@dataclass
class Blocks:
    """What a bucket holds: complete blocks by ULID, the ULIDs of partial
    ones with why, and the complete blocks marked for deletion."""

    metas: dict[str, Meta] = field(default_factory=dict)
    partial: dict[str, str] = field(default_factory=dict)
    marked_for_deletion: set[str] = field(default_factory=set)


def is_ulid(name: str) -> bool:
    return _ULID.fullmatch(name) is not None


def block_ids(bucket: Bucket) -> list[str]:
    """The ULIDs of the block directories at the top of the bucket; other
    names (``debug/``, a stray file) are not blocks."""
    return [n[:-1] for n in bucket.iter("") if n.endswith(DIR_DELIM) and is_ulid(n[:-1])]


def read_meta(bucket: Bucket, ulid: str) -> Meta:
    """``<ulid>/meta.json``; :class:`ObjectNotFoundError` when the block has
    none (a partial upload)."""
    name = f"{ulid}/{META_FILENAME}"
    meta = Meta.parse(name, bucket.get(name))
    if meta.ulid != ulid:
        raise CorruptBlockError(f"{name}: ulid {meta.ulid} does not match its directory")
    return meta


def fetch(bucket: Bucket, concurrency: int = FETCHER_CONCURRENCY) -> Blocks:
    """Reads every block's meta.json and deletion mark, ``concurrency`` at
    once (each request releases the GIL), as Thanos's ``MetaFetcher`` does.
    A missing or corrupt meta.json makes the block partial; a failing bucket
    raises."""

    def one(ulid: str) -> tuple[str, Meta | None, str, bool]:
        try:
            meta = read_meta(bucket, ulid)
        except ObjectNotFoundError:
            return ulid, None, "no meta.json", False
        except CorruptBlockError as e:
            return ulid, None, str(e), False
        return ulid, meta, "", bucket.exists(f"{ulid}/{DELETION_MARK_FILENAME}")

    blocks = Blocks()
    ids = block_ids(bucket)
    with ThreadPoolExecutor(max(1, min(concurrency, len(ids)))) as pool:
        for ulid, meta, why, deleted in pool.map(one, ids):
            if meta is None:
                blocks.partial[ulid] = why
                continue
            blocks.metas[ulid] = meta
            if deleted:
                blocks.marked_for_deletion.add(ulid)
    return blocks
