"""The data of the sidecar tests: one dataset, backfilled once per session and
copied for each Prometheus 2.42 that serves it."""

from __future__ import annotations

from pathlib import Path

from support import datasets
from support.prometheus import PrometheusServer
from thanos_rs.objstore.block import is_ulid

#: A day of minute-interval scrapes from 12 targets: 157 series of ~1,440
#: samples, in many 2 h blocks.
DATA = datasets.monitoring(hours=24, interval=60, jobs=3, instances=4)
EXTERNAL = {"cluster": "eu1", "replica": "0"}
#: Frames of at most ~1 KiB, so that every series arrives in several frames
#: (with the default, 1 MiB, each series here would be one frame).
SMALL_FRAMES = ("--storage.remote.read-max-bytes-in-frame=1024",)


def prometheus(workdir: Path, tsdb: Path, name: str = "prometheus", external=EXTERNAL, **kw) -> PrometheusServer:
    """A Prometheus serving a copy of the backfilled ``tsdb`` folder."""
    return PrometheusServer(workdir, name=name, external_labels=dict(external), data_from=tsdb, **kw)


def blocks(data: Path) -> list[Path]:
    """The blocks of a data directory, oldest first (ULIDs sort by time)."""
    return sorted(p for p in data.iterdir() if is_ulid(p.name))
