"""Python protobuf and gRPC stubs compiled from ``proto/`` with grpcio-tools.

They are generated afresh into a temporary folder the first time they are asked
for, so they can never drift from the ``.proto`` files, and give the tests a
protobuf implementation independent of the Rust core's.
"""

from __future__ import annotations

import functools
import importlib
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"
FILES = (
    "store/labelpb/types.proto",
    "store/storepb/types.proto",
    "store/storepb/rpc.proto",
    "info/infopb/rpc.proto",
    "prompb/types.proto",
    "prompb/remote.proto",
    "rules/rulespb/rpc.proto",
    "targets/targetspb/rpc.proto",
    "metadata/metadatapb/rpc.proto",
    "exemplars/exemplarspb/rpc.proto",
)


@functools.cache
def load() -> SimpleNamespace:
    """Compiles the protos once per process and returns their modules:
    ``labels``, ``types``, ``rpc``, ``rpc_grpc``, ``info``, ``info_grpc``,
    ``prom_types``, ``remote``, and ``rules``, ``targets``, ``metadata``,
    ``exemplars`` with their ``*_grpc`` stubs."""
    from grpc_tools import protoc

    out = Path(tempfile.mkdtemp(prefix="thanos_rs_protos_"))
    include = Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(args + [str(PROTO_ROOT / f) for f in FILES]) != 0:
        raise RuntimeError("grpc_tools.protoc failed on proto/")
    sys.path.insert(0, str(out))
    mod = importlib.import_module
    return SimpleNamespace(
        labels=mod("store.labelpb.types_pb2"),
        types=mod("store.storepb.types_pb2"),
        rpc=mod("store.storepb.rpc_pb2"),
        rpc_grpc=mod("store.storepb.rpc_pb2_grpc"),
        info=mod("info.infopb.rpc_pb2"),
        info_grpc=mod("info.infopb.rpc_pb2_grpc"),
        prom_types=mod("prompb.types_pb2"),
        remote=mod("prompb.remote_pb2"),
        rules=mod("rules.rulespb.rpc_pb2"),
        rules_grpc=mod("rules.rulespb.rpc_pb2_grpc"),
        targets=mod("targets.targetspb.rpc_pb2"),
        targets_grpc=mod("targets.targetspb.rpc_pb2_grpc"),
        metadata=mod("metadata.metadatapb.rpc_pb2"),
        metadata_grpc=mod("metadata.metadatapb.rpc_pb2_grpc"),
        exemplars=mod("exemplars.exemplarspb.rpc_pb2"),
        exemplars_grpc=mod("exemplars.exemplarspb.rpc_pb2_grpc"),
    )
