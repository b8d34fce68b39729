"""Exceptions raised by thanos_rs.

Every class derives from :class:`ThanosRsError`, whose ``error_type`` is the
Prometheus HTTP API error type the failure maps to (the ``errorType`` of an
error body): ``bad_data``, ``execution``, ``timeout``, ``canceled`` or
``internal``. The Rust core raises these classes by name, so they must stay
importable from this module.
"""

from __future__ import annotations

__all__ = [
    "ThanosRsError",
    "BadDataError",
    "PromQLError",
    "PromQLParseError",
    "CorruptChunkError",
    "StoreError",
    "CorruptFrameError",
    "CorruptBlockError",
    "PrometheusError",
    "BucketError",
    "ObjectNotFoundError",
    "BucketConfigError",
    "LimitExceededError",
    "ReloaderError",
    "ShipperError",
    "DemoError",
    "DiscoveryError",
    "NameNotFoundError",
    "LookupFailedError",
    "FileSDError",
    "CompactionError",
    "HaltError",
]

#: Prometheus's API error types (web/api/v1/api.go).
ERROR_TYPES = ("bad_data", "execution", "timeout", "canceled", "internal")


class ThanosRsError(Exception):
    """Base class of every thanos_rs error."""

    error_type: str = "internal"

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        if error_type is not None:
            if error_type not in ERROR_TYPES:
                raise ValueError(f"unknown error type {error_type!r}")
            self.error_type = error_type

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class BadDataError(ThanosRsError, ValueError):
    """The caller's input is invalid (a bad parameter, mismatched lengths)."""

    error_type = "bad_data"


class PromQLError(ThanosRsError):
    """A PromQL query failed; ``error_type`` says how, in Prometheus's terms, and
    the message uses Prometheus's wording where one exists
    (``1:5: parse error: ...``, ``query timed out in ...``)."""

    error_type = "execution"


class PromQLParseError(BadDataError, PromQLError):
    """A query or selector (``match[]``, ``storeMatch[]``) that does not parse
    or fails the parser's checks; the message is Prometheus's
    (``1:5: parse error: ...``). ``position`` is the ``(start, end)`` byte
    range Prometheus's parser reports, ``line`` and ``column`` (from 1, in
    bytes) where the message's prefix points."""

    error_type = "bad_data"

    def __init__(self, message: str, position: tuple[int, int], line: int, column: int) -> None:
        super().__init__(message)
        self.position = position
        self.line = line
        self.column = column


class CorruptChunkError(ThanosRsError, ValueError):
    """Chunk bytes that do not decode: truncated, or bits no encoder writes."""

    error_type = "internal"


class StoreError(ThanosRsError):
    """A store (a StoreAPI endpoint or Prometheus) failed or is unreachable."""

    error_type = "execution"


class CorruptFrameError(StoreError):
    """A damaged remote-read or StoreAPI frame: bad checksum, oversized length,
    undecodable message. Never silently dropped."""


class CorruptBlockError(StoreError):
    """A file of a Prometheus data directory that fails its checks (magic,
    format version, checksum, a reference out of bounds); the message names
    the file and the offset."""


class PrometheusError(StoreError):
    """A call to Prometheus failed. ``status`` is the HTTP status of its
    answer: 0 when none came (Prometheus could not be reached), an error code,
    or a 2xx code when the answer broke off midway."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class BucketError(StoreError):
    """An object storage request failed: the bucket cannot be reached, refused
    the credentials or answered with an error. Messages name the object, never
    a credential."""


class ObjectNotFoundError(BucketError):
    """The object is not in the bucket (Thanos's ``IsObjNotFoundErr``): a block
    deleted meanwhile, a partial upload, a marker that was never written."""


class BucketConfigError(BucketError, ValueError):
    """An objstore configuration that cannot be used: not YAML, an unknown
    type or field, a missing required field (the message names it), or
    options the provider rejects. Messages never quote a value."""

    error_type = "bad_data"


class LimitExceededError(StoreError):
    """A request asked a store for more than its limits allow (the store
    gateway's ``--store.grpc.series-sample-limit`` and
    ``--store.grpc.touched-series-limit``); the message says which limit, as
    Thanos words it."""


class ReloaderError(ThanosRsError):
    """The sidecar's config reloader could not apply a change: a file it
    cannot read or write, an unset ``$(VAR)``, a reload Prometheus refused.
    The reloader logs it and tries again on the next change or tick."""


class ShipperError(ThanosRsError):
    """A shipper sync left blocks behind: an upload failed, a block's
    metadata could not be read, or a compacted block overlaps one in the
    bucket. The next sync tries again."""


class DemoError(ThanosRsError):
    """``python -m thanos_rs demo`` cannot run: a port in use, a component
    that exits or is not ready in time."""


class DiscoveryError(ThanosRsError):
    """Endpoint discovery (``--store dns+...``, ``--store.sd-files``) gave no
    addresses for a name or a file. The querier logs it and shows it on the
    stores page; the name or file keeps or drops its addresses as Thanos
    does (see each subclass)."""


class NameNotFoundError(DiscoveryError):
    """A discovery name has no records (NXDOMAIN, no answer): it resolves to
    nothing."""


class LookupFailedError(DiscoveryError):
    """A DNS lookup itself failed (a timeout, a server failure): the name
    keeps its last good addresses."""


class FileSDError(DiscoveryError):
    """A ``--store.sd-files`` pattern Prometheus's file discovery refuses, or
    a file that is not a list of target groups: a bad pattern stops the
    querier, a bad file keeps the targets it last gave."""


class CompactionError(ThanosRsError):
    """A compactor run failed and left the bucket as it was: a download or
    upload that failed, a bucket that cannot be listed. With ``--wait`` the
    next run tries again; without, the command exits with it."""


class HaltError(CompactionError):
    """What Thanos's compactor halts on (``compact.HaltError``): overlapping
    blocks it may not merge, a block it cannot compact. Going on could lose
    or duplicate data, so with ``--wait`` the compactor stops working and
    stays up, ``thanos_compact_halted`` at 1, for someone to look."""
