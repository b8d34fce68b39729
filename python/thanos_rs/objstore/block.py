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
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from thanos_rs.block.markers import DELETION_MARK_FILENAME, DeletionMark, read_deletion_mark
from thanos_rs.block.metadata import CHUNKS_DIRNAME, INDEX_FILENAME, META_FILENAME, Meta
from thanos_rs.errors import CorruptBlockError, ObjectNotFoundError
from thanos_rs.objstore import DIR_DELIM, Bucket

#: A ULID: 26 characters of Crockford's base32, the first at most 7.
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

#: Thanos's `block.FetcherConcurrency`: metas read at once.
FETCHER_CONCURRENCY = 32


@dataclass
class Blocks:
    """What a bucket holds: complete blocks by ULID, the ULIDs of partial
    ones with why, and the deletion marks of complete blocks."""

    metas: dict[str, Meta] = field(default_factory=dict)
    partial: dict[str, str] = field(default_factory=dict)
    marked_for_deletion: dict[str, DeletionMark] = field(default_factory=dict)


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
    A missing or corrupt meta.json makes the block partial; a corrupt mark
    counts as none, as Thanos's ``IgnoreDeletionMarkFilter`` reads it (half
    written, it is written again); a failing bucket raises."""

    def one(ulid: str) -> tuple[str, Meta | None, str, DeletionMark | None]:
        try:
            meta = read_meta(bucket, ulid)
        except ObjectNotFoundError:
            return ulid, None, "no meta.json", None
        except CorruptBlockError as e:
            return ulid, None, str(e), None
        try:
            return ulid, meta, "", read_deletion_mark(bucket, ulid)
        except CorruptBlockError:
            return ulid, meta, "", None

    blocks = Blocks()
    ids = block_ids(bucket)
    with ThreadPoolExecutor(max(1, min(concurrency, len(ids)))) as pool:
        for ulid, meta, why, mark in pool.map(one, ids):
            if meta is None:
                blocks.partial[ulid] = why
                continue
            blocks.metas[ulid] = meta
            if mark is not None:
                blocks.marked_for_deletion[ulid] = mark
    return blocks


def delete_block(bucket: Bucket, ulid: str) -> None:
    """Removes a block from the bucket in Thanos's order (``block.Delete``):
    meta.json first, so that what is left is a partial block to every
    reader, then its other files, the deletion mark last, so that a deletion
    cut short is finished by the next one."""
    prefix = f"{ulid}/"
    names = bucket.iter(prefix, recursive=True)
    meta = prefix + META_FILENAME
    mark = prefix + DELETION_MARK_FILENAME
    if meta in names:
        bucket.delete(meta)
    for name in names:
        if name not in (meta, mark):
            bucket.delete(name)
    if mark in names:
        bucket.delete(mark)


def download(bucket: Bucket, ulid: str, directory: Path, concurrency: int = 1) -> None:
    """Copies a block into ``directory`` (``block.Download``): its meta.json,
    index and chunk segments; marks and other files stay in the bucket."""
    prefix = f"{ulid}/"
    names = [n for n in bucket.iter(prefix, recursive=True)
             if n[len(prefix):] in (META_FILENAME, INDEX_FILENAME) or n.startswith(f"{prefix}{CHUNKS_DIRNAME}/")]
    if prefix + META_FILENAME not in names:
        raise ObjectNotFoundError(f"{prefix}{META_FILENAME}: the block has no meta.json")

    def one(name: str) -> None:
        path = directory / name[len(prefix):]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bucket.get(name))

    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        list(pool.map(one, names))
