"""Blocks in a bucket, as Thanos lays them out: one directory per block named
by its ULID, holding ``meta.json`` (:class:`thanos_rs.block.metadata.Meta`),
``index``, ``chunks/`` and, once the compactor has
decided to remove it, ``deletion-mark.json`` (``pkg/block/metadata`` and
``pkg/block/fetcher.go`` at Thanos v0.26.0).

Thanos's shipper uploads ``meta.json`` last, so a directory without one is a
partial upload (or a deletion in progress): readers skip it.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from thanos_rs.block.metadata import META_FILENAME, Meta
from thanos_rs.errors import CorruptBlockError, ObjectNotFoundError
from thanos_rs.objstore import DIR_DELIM, Bucket

DELETION_MARK_FILENAME = "deletion-mark.json"

#: A ULID: 26 characters of Crockford's base32, the first at most 7.
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

#: Thanos's `block.FetcherConcurrency`: metas read at once.
FETCHER_CONCURRENCY = 32


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
