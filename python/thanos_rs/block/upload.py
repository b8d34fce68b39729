"""Uploads a block directory to object storage in Thanos's layout
(``block.Upload`` in ``pkg/block/block.go``): the chunk segments, then the
index, then ``meta.json``. A directory in the bucket without ``meta.json`` is
therefore an upload in progress (or an abandoned one), never a block.

``meta.json`` goes up with the ``files`` list of the section: every file's
path relative to the block, its size (none for ``meta.json`` itself) and,
with ``hash_func``, its SHA256, so that readers need no extra call per file."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from thanos_rs.block import metadata

#: The values of ``--hash-func`` (``metadata.HashFunc``): none, or SHA256.
HASH_FUNCS = ("", "SHA256")


class Bucket(Protocol):
    """The writes an upload makes (``thanos_rs.objstore.Bucket`` has them)."""

    def upload(self, name: str, data: bytes) -> None: ...

    def upload_file(self, name: str, path: str) -> None: ...


def segment_files(block_dir: Path) -> list[str]:
    """The chunk segment files' names, sorted (``GetSegmentFiles``)."""
    chunks = block_dir / metadata.CHUNKS_DIRNAME
    return sorted(p.name for p in chunks.iterdir()) if chunks.is_dir() else []


def file_stats(block_dir: Path, hash_func: str = "") -> list[dict[str, Any]]:
    """The ``files`` list of Thanos's section (``GatherFileStats``), sorted by path."""
    files = [f"{metadata.CHUNKS_DIRNAME}/{name}" for name in segment_files(block_dir)]
    files.append(metadata.INDEX_FILENAME)
    out: list[dict[str, Any]] = []
    for rel in files:
        path = block_dir / rel
        entry: dict[str, Any] = {"rel_path": rel, "size_bytes": path.stat().st_size}
        if hash_func:
            entry["hash"] = {"hashFunc": hash_func, "value": _sha256(path)}
        out.append(entry)
    out.append({"rel_path": metadata.META_FILENAME})
    return sorted(out, key=lambda f: f["rel_path"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


def upload(bucket: Bucket, block_dir: Path, meta: metadata.Document, hash_func: str = "",
           concurrency: int = 1) -> None:
    """Uploads ``block_dir`` under its ULID with ``meta`` as its ``meta.json``
    (``meta`` already holds Thanos's section). ``concurrency`` segment files
    go up at once."""
    ulid = meta["ulid"]
    meta = meta | {"thanos": meta["thanos"] | {"files": file_stats(block_dir, hash_func)}}
    segments = [f"{metadata.CHUNKS_DIRNAME}/{name}" for name in segment_files(block_dir)]
    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        # list() re-raises the first failure.
        list(pool.map(lambda rel: bucket.upload_file(f"{ulid}/{rel}", str(block_dir / rel)), segments))
    bucket.upload_file(f"{ulid}/{metadata.INDEX_FILENAME}", str(block_dir / metadata.INDEX_FILENAME))
    bucket.upload(f"{ulid}/{metadata.META_FILENAME}", metadata.encode(meta))

