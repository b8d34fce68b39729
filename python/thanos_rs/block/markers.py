"""The marks the compactor leaves in a block's directory (Thanos's
``pkg/block/metadata/markers.go`` at v0.26): ``deletion-mark.json`` says the
block goes after ``--delete-delay``; readers stop using it meanwhile."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Protocol

from thanos_rs.errors import CorruptBlockError, ObjectNotFoundError

DELETION_MARK_FILENAME = "deletion-mark.json"
#: ``DeletionMarkVersion1``, the only version Thanos writes and reads.
DELETION_MARK_VERSION = 1


class Bucket(Protocol):
    """The calls a mark makes (``thanos_rs.objstore.Bucket`` has them)."""

    def exists(self, name: str) -> bool: ...

    def get(self, name: str) -> bytes: ...

    def upload(self, name: str, data: bytes) -> None: ...


@dataclass(frozen=True)
class DeletionMark:
    """``DeletionMark``: the block, why, and when it was marked (Unix seconds)."""

    id: str
    deletion_time: int
    details: str = ""

    def encode(self) -> bytes:
        """As Go's ``json.Marshal`` writes the struct: its field order, no
        spaces, ``details`` left out when empty."""
        doc: dict[str, object] = {"id": self.id, "version": DELETION_MARK_VERSION}
        if self.details:
            doc["details"] = self.details
        doc["deletion_time"] = self.deletion_time
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def parse(cls, name: str, data: bytes) -> DeletionMark:
        """A stored mark; :class:`CorruptBlockError` naming ``name`` for one
        that is not a version 1 mark (a half-written upload, say)."""
        try:
            doc = json.loads(data)
            if doc["version"] != DELETION_MARK_VERSION:
                raise CorruptBlockError(f"{name}: unexpected deletion-mark file version {doc['version']}")
            return cls(id=doc.get("id", ""), deletion_time=int(doc["deletion_time"]), details=doc.get("details", ""))
        except (ValueError, TypeError, KeyError) as e:
            raise CorruptBlockError(f"{name}: unmarshal marker JSON: {e}") from None


def read_deletion_mark(bucket: Bucket, ulid: str) -> DeletionMark | None:
    """The block's deletion mark, or None when it has none."""
    name = f"{ulid}/{DELETION_MARK_FILENAME}"
    try:
        return DeletionMark.parse(name, bucket.get(name))
    except ObjectNotFoundError:
        return None


def mark_for_deletion(bucket: Bucket, ulid: str, details: str, now: float | None = None) -> bool:
    """Writes the block's deletion mark (``block.MarkForDeletion``); False,
    and the old mark kept, when it has one already."""
    name = f"{ulid}/{DELETION_MARK_FILENAME}"
    if bucket.exists(name):
        return False
    mark = DeletionMark(id=ulid, deletion_time=int(time.time() if now is None else now), details=details)
    bucket.upload(name, mark.encode())
    return True
