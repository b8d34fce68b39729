"""Thanos's object storage configuration (``client.BucketConfig`` in
thanos-io/objstore): a YAML document with ``type``, ``config`` and ``prefix``,
read from ``--objstore.config-file`` or ``--objstore.config``::

    type: S3
    config:
      bucket: thanos
      endpoint: 127.0.0.1:9000
      access_key: ...
      secret_key: ...
      insecure: true
    prefix: tenant-a

The fields of each provider are those of Thanos's ``providers/<type>``
structs. A field Thanos knows that thanos_rs does not implement is refused when
set to anything but its empty value, so that a config never silently means less
than it says; tuning knobs (timeouts, part sizes, retries) are accepted and
left to the ``object_store`` crate's defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import yaml

from thanos_rs.errors import BucketConfigError

#: Shown instead of a secret's value.
SECRET = "<secret>"

#: Fields whose values are credentials, in every provider.
SECRET_FIELDS = frozenset({"secret_key", "session_token", "storage_account_key", "service_account"})

# Thanos's fields that only tune the client: accepted, and the crate's
# defaults used (objstore's `providers/*/*.go` structs).
_TUNING = {
    "S3": {"part_size", "list_objects_version", "bucket_lookup_type", "send_content_md5",
           "disable_dualstack", "disable_multipart", "trace", "put_user_metadata"},
    "GCS": {"chunk_size_bytes", "grpc_conn_pool_size"},
    "AZURE": {"reader_config", "pipeline_config", "msi_resource"},
    "FILESYSTEM": set(),
}

# Thanos's fields that change what the bucket does (encryption, other ways
# to authenticate, other protocols): refused unless empty.
_NOT_IMPLEMENTED = {
    "S3": {"aws_sdk_auth", "sse_config", "sts_endpoint"},
    "GCS": {"use_grpc"},
    "AZURE": {"az_tenant_id", "client_id", "client_secret", "storage_connection_string", "storage_create_container",
              "user_assigned_id"},
    "FILESYSTEM": set(),
}

# kingpin's extflag substitutes `$(NAME)` with the environment variable NAME
# in objstore configs (efficientgo/tools extkingpin `WithEnvSubstitution`).
_ENV_REF = re.compile(r"\$\(([a-zA-Z_0-9]+)\)")


@dataclass(frozen=True)
class HTTPConfig:
    """``http_config``: only ``insecure_skip_verify`` is applied."""

    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class FilesystemConfig:
    directory: str


@dataclass(frozen=True, repr=False)
class S3Config:
    bucket: str
    endpoint: str
    region: str = ""
    access_key: str = ""
    secret_key: str = ""
    session_token: str = ""
    insecure: bool = False
    #: Accepted for Thanos's configs; requests are signed with AWS's version 4,
    #: which every server that takes version 2 also takes.
    signature_version2: bool = False
    http_config: HTTPConfig = field(default_factory=HTTPConfig)
    #: Tries after a failed request; None for the client's default of 10.
    max_retries: int | None = None


@dataclass(frozen=True, repr=False)
class GCSConfig:
    bucket: str
    #: The JSON key of a service account (its content); empty for Google's
    #: application default credentials.
    service_account: str = ""
    http_config: HTTPConfig = field(default_factory=HTTPConfig)
    #: Tries after a failed request; None for the client's default of 10.
    max_retries: int | None = None


@dataclass(frozen=True, repr=False)
class AzureConfig:
    storage_account: str
    container: str
    storage_account_key: str = ""
    endpoint: str = "blob.core.windows.net"
    http_config: HTTPConfig = field(default_factory=HTTPConfig)
    #: Tries after a failed request; None for the client's default of 10.
    max_retries: int | None = None


ProviderConfig = FilesystemConfig | S3Config | GCSConfig | AzureConfig

_PROVIDERS: dict[str, type] = {
    "FILESYSTEM": FilesystemConfig, "S3": S3Config, "GCS": GCSConfig, "AZURE": AzureConfig,
}


@dataclass(frozen=True, repr=False)
class BucketConfig:
    """A parsed objstore config. Its ``repr`` and :meth:`redacted` hide every
    credential, so that it can be logged."""

    type: str
    config: ProviderConfig
    prefix: str = ""

    def redacted(self) -> dict[str, Any]:
        """The config as its YAML reads, with each credential that is set
        replaced by ``<secret>``."""
        return {"type": self.type, "config": _redact(_as_dict(self.config)), "prefix": self.prefix}

    def __repr__(self) -> str:
        return f"BucketConfig({self.redacted()!r})"


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: (_as_dict(v) if hasattr(v, "__dataclass_fields__") else v)
            for f in fields(obj) for v in [getattr(obj, f.name)]}


def _redact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (SECRET if k in SECRET_FIELDS and v else _redact(v) if isinstance(v, dict) else v)
            for k, v in values.items()}


def parse(text: str | bytes) -> BucketConfig:
    """Parses an objstore YAML document. Raises :class:`BucketConfigError`
    naming the field at fault; its message never holds a value."""
    try:
        doc = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as e:
        # The parser's message quotes the document around the error, which
        # may be a secret: only its position is kept.
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise BucketConfigError(f"parsing config YAML file: invalid YAML{where}") from None
    if not isinstance(doc, Mapping):
        raise BucketConfigError("parsing config YAML file: expected a mapping with type and config")
    _refuse_unknown("", doc, {"type", "config", "prefix"})
    kind = _string("type", doc.get("type"))
    if not kind:
        raise BucketConfigError(f"type: missing; one of {', '.join(_PROVIDERS)}")
    provider = _PROVIDERS.get(kind.upper())
    if provider is None:
        raise BucketConfigError(
            f"bucket with type {kind} is not supported (thanos_rs supports {', '.join(_PROVIDERS)})"
        )
    kind = kind.upper()
    section = doc.get("config")
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise BucketConfigError("config: expected a mapping")
    prefix = _string("prefix", doc.get("prefix"))
    return BucketConfig(type=kind, config=_provider(kind, provider, section), prefix=prefix)


def _provider(kind: str, cls: type, section: Mapping[str, Any]) -> ProviderConfig:
    known = {f.name: f for f in fields(cls)}
    _refuse_unknown("config.", section, set(known) | _TUNING[kind] | _NOT_IMPLEMENTED[kind])
    for name in _NOT_IMPLEMENTED[kind]:
        if _is_set(section.get(name)):
            raise BucketConfigError(f"config.{name}: not supported by thanos_rs for type {kind}")
    values: dict[str, Any] = {}
    for name, f in known.items():
        raw = section.get(name)
        if name == "http_config":
            values[name] = _http_config(raw)
        elif f.type == "bool":
            values[name] = _bool(f"config.{name}", raw)
        elif name == "max_retries":
            values[name] = _count(f"config.{name}", raw)
        else:
            values[name] = _string(f"config.{name}", raw)
    for name, f in known.items():
        required = f.default is MISSING and f.default_factory is MISSING
        if required and not values[name]:
            raise BucketConfigError(f"config.{name}: missing; type {kind} needs it")
        if values[name] == "" and isinstance(f.default, str):
            values[name] = f.default
    if kind == "S3" and bool(values["access_key"]) != bool(values["secret_key"]):
        missing = "secret_key" if values["access_key"] else "access_key"
        raise BucketConfigError(
            f"config.{missing}: missing; access_key and secret_key are given together, or neither "
            "(credentials from the environment)"
        )
    return cls(**values)


def _http_config(raw: Any) -> HTTPConfig:
    if raw is None:
        return HTTPConfig()
    if not isinstance(raw, Mapping):
        raise BucketConfigError("config.http_config: expected a mapping")
    return HTTPConfig(insecure_skip_verify=_bool("config.http_config.insecure_skip_verify",
                                                 raw.get("insecure_skip_verify")))


def _is_set(value: Any) -> bool:
    """Whether a value differs from Go's zero value: documentation prints
    ``sse_config: {type: ""}`` for "no encryption"."""
    if isinstance(value, Mapping):
        return any(_is_set(v) for v in value.values())
    return bool(value)


def _refuse_unknown(where: str, values: Mapping[str, Any], known: set[str]) -> None:
    # yaml.UnmarshalStrict in Thanos: a misspelt field is an error, not a default.
    for name in values:
        if name not in known:
            raise BucketConfigError(f"{where}{name}: unknown field")


def _string(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, Mapping, list)):
        raise BucketConfigError(f"{name}: expected a string")
    return str(value)


def _bool(name: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BucketConfigError(f"{name}: expected true or false")
    return value


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BucketConfigError(f"{name}: expected a number from 0")
    return value


def substitute_env(text: str) -> str:
    """Replaces each ``$(NAME)`` by the environment variable NAME, as Thanos
    does in objstore configs; an unset variable is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise BucketConfigError(f"found reference to unset environment variable {name!r}")
        return os.environ[name]

    return _ENV_REF.sub(value, text)


def from_flags(config_file: str | None, config: str | None) -> BucketConfig | None:
    """The config of ``--objstore.config-file`` or ``--objstore.config``
    (Thanos's path-or-content flag): None when neither is given or the
    content is empty, meaning no bucket."""
    if config_file and config:
        raise BucketConfigError("both objstore.config-file and objstore.config flags set.")
    if config_file:
        try:
            with open(config_file, encoding="utf-8") as f:
                content = f.read()
        except OSError as e:
            raise BucketConfigError(
                f"loading file {config_file} for objstore.config-file: {e.strerror}"
            ) from None
    else:
        content = config or ""
    if not content.strip():
        return None
    return parse(substitute_env(content))
