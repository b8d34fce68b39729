"""Object storage: Thanos's buckets (S3 and S3-compatible servers, GCS, Azure,
a filesystem directory) with the operations of its ``objstore.Bucket``.

The requests run in Rust (the ``object_store`` crate) with the GIL released,
so threads of one process can wait on several of them at once; from asyncio,
call them through ``asyncio.to_thread``::

    bucket = Bucket.from_flags(args.objstore_config_file, args.objstore_config)
    for name in bucket.iter(""):          # "01H.../" per block
        ...
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from thanos_rs import _core
from thanos_rs.errors import BucketConfigError, BucketError, ObjectNotFoundError
from thanos_rs.objstore import config as _config
from thanos_rs.objstore.config import (
    AzureConfig,
    BucketConfig,
    FilesystemConfig,
    GCSConfig,
    S3Config,
)

__all__ = [
    "Bucket",
    "BucketConfig",
    "BucketError",
    "ObjectNotFoundError",
    "BucketConfigError",
    "DIR_DELIM",
]

#: Thanos's ``objstore.DirDelim``.
DIR_DELIM = "/"


def _open(cfg: BucketConfig) -> _core.Bucket:
    c = cfg.config
    if isinstance(c, FilesystemConfig):
        return _core.Bucket.filesystem(directory=c.directory, prefix=cfg.prefix)
    if isinstance(c, S3Config):
        return _core.Bucket.s3(
            bucket=c.bucket, endpoint=c.endpoint, region=c.region, access_key=c.access_key,
            secret_key=c.secret_key, session_token=c.session_token, insecure=c.insecure,
            insecure_skip_verify=c.http_config.insecure_skip_verify, max_retries=c.max_retries,
            prefix=cfg.prefix,
        )
    if isinstance(c, GCSConfig):
        return _core.Bucket.gcs(
            bucket=c.bucket, service_account=c.service_account,
            insecure_skip_verify=c.http_config.insecure_skip_verify, max_retries=c.max_retries,
            prefix=cfg.prefix,
        )
    if isinstance(c, AzureConfig):
        return _core.Bucket.azure(
            storage_account=c.storage_account, storage_account_key=c.storage_account_key,
            container=c.container, endpoint=c.endpoint,
            insecure_skip_verify=c.http_config.insecure_skip_verify, max_retries=c.max_retries,
            prefix=cfg.prefix,
        )
    raise TypeError(f"not a provider config: {type(c).__name__}")


class Bucket:
    """One bucket. Thread-safe; every method blocks until its request is done
    and raises :class:`BucketError`, or :class:`ObjectNotFoundError` for an
    object that is not there."""

    def __init__(self, core: _core.Bucket, config: BucketConfig) -> None:
        self._core = core
        self.config = config

    @classmethod
    def from_config(cls, cfg: BucketConfig | str | bytes) -> Bucket:
        """A bucket from a parsed config or from objstore YAML. Nothing is
        requested yet; a config the provider refuses raises
        :class:`BucketConfigError`."""
        if not isinstance(cfg, BucketConfig):
            cfg = _config.parse(cfg)
        try:
            return cls(_open(cfg), cfg)
        except BucketConfigError:
            raise
        except BucketError as e:
            raise BucketConfigError(str(e)) from None

    @classmethod
    def from_flags(cls, config_file: str | None, config: str | None) -> Bucket | None:
        """The bucket of ``--objstore.config-file`` / ``--objstore.config``;
        None when neither is given, which Thanos's components take as "no
        object storage"."""
        cfg = _config.from_flags(config_file, config)
        return None if cfg is None else cls.from_config(cfg)

    @property
    def core(self) -> _core.Bucket:
        """The Rust client, for readers in Rust (the store gateway's blocks)."""
        return self._core

    @property
    def name(self) -> str:
        """Thanos's ``Bucket.Name()``: the bucket or container, ``fs: <dir>``."""
        return self._core.name

    @property
    def type(self) -> str:
        """``FILESYSTEM``, ``S3``, ``GCS`` or ``AZURE``."""
        return self._core.type

    def __repr__(self) -> str:
        return f"Bucket({self.name!r}, {self.config!r})"

    def iter(self, dir: str = "", recursive: bool = False) -> list[str]:
        """The names directly under ``dir``, sorted, sub-directories with a
        trailing ``/`` (``"01H.../chunks/"``); with ``recursive``, every object
        under ``dir``. Names start with ``dir``; a missing ``dir`` has none."""
        return self._core.iter(dir, recursive)

    def get(self, name: str) -> bytes:
        return self._core.get(name)

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``; the range must lie in the object."""
        return self._core.get_range(name, offset, length)

    def get_ranges(self, name: str, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Several ``(offset, length)`` ranges of one object; ranges close
        together are read by one request."""
        return self._core.get_ranges(name, list(ranges))

    def exists(self, name: str) -> bool:
        return self._core.exists(name)

    def size(self, name: str) -> int:
        return self._core.size(name)

    def upload(self, name: str, data: bytes) -> None:
        """Writes the object, replacing any of the same name."""
        self._core.upload(name, data)

    def upload_file(self, name: str, path: str | os.PathLike[str]) -> None:
        """Uploads a local file as it reads it; large files go up in parts."""
        self._core.upload_file(name, os.fspath(path))

    def delete(self, name: str) -> None:
        self._core.delete(name)
