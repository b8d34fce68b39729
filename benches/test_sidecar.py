"""Streaming Series through the sidecar versus reading the same data straight
from Prometheus's remote read, in one run (issue 3's benchmark).

``python -m pytest benches/test_sidecar.py --benchmark-only`` runs the default
size, 1,000 series of 6 hours at a 15 s interval (1.44 M samples) in a couple
of minutes; ``--sidecar-series=10000`` runs the issue's size (14.4 M samples;
the backfill then takes a few minutes once, and is cached in the temporary
folder for later runs).

Reported: wall time of a full read each way (best of the rounds), their ratio,
for one series per message (v0.26 querier) and batches of 64 (Thanos main), and
the sidecar's peak resident memory above its idle level while streaming a
tenth of the series and all of them (flat means memory does not grow with the
series count).
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.request
from pathlib import Path

import grpc
import pytest
from support import protos, remote_read
from support.components import sidecar
from support.prometheus import PrometheusServer, backfill_file
from support.storeclient import EQ
from timing import best

HOURS = 6
INTERVAL_S = 15
START_S = 1_700_000_000
ROUNDS = 5


def openmetrics(path: Path, series: int) -> None:
    """Counters of ``series`` targets, each a sample every 15 s for 6 hours.
    Increments vary per series and step, so chunks are of a realistic size."""
    steps = HOURS * 3600 // INTERVAL_S + 1
    with path.open("w") as f:
        f.write("# TYPE bench_requests counter\n")
        for i in range(series):
            name = f'bench_requests_total{{job="bench{i % 10}",instance="host{i}:9100"}}'
            v = 0
            f.writelines(
                f"{name} {(v := v + (i * 7 + k * 13) % 101)} {START_S + k * INTERVAL_S}\n" for k in range(steps)
            )
        f.write("# EOF\n")


def tsdb(series: int) -> Path:
    """A backfilled TSDB of ``series`` series, made once and kept for later runs."""
    cache = Path(tempfile.gettempdir()) / "thanos_rs_bench" / f"{series}x{HOURS}h"
    data = cache / "data"
    if not (cache / "done").exists():
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        source = cache / "data.om"
        openmetrics(source, series)
        backfill_file(source, data)
        source.unlink()
        (cache / "done").touch()
    return data


def read_raw(url: str, matchers) -> int:
    """Reads a whole streamed remote-read body; returns its size."""
    body = remote_read.read_request(matchers, 0, 2**62)
    req = urllib.request.Request(f"{url}/api/v1/read", data=body, headers={
        "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Read-Version": "0.1.0",
    })
    size = 0
    with urllib.request.urlopen(req, timeout=600) as r:
        while chunk := r.read(1 << 16):
            size += len(chunk)
    return size


def read_sidecar(channel: grpc.Channel, matchers, batch: int) -> tuple[int, int]:
    """Reads every Series message, left undecoded; returns (messages, bytes)."""
    pb = protos.load()
    req = pb.rpc.SeriesRequest(min_time=0, max_time=2**62, response_batch_size=batch)
    for t, n, v in matchers:
        req.matchers.add(type=t, name=n, value=v)
    call = channel.unary_stream("/thanos.Store/Series", request_serializer=None, response_deserializer=None)
    count = size = 0
    for m in call(req.SerializeToString(), timeout=600):
        count += 1
        size += len(m)
    return count, size


def peak_rss_during(pid: int, fn) -> int:
    """The process's peak resident memory while ``fn`` runs, in bytes, from a
    high-water mark reset just before (``clear_refs`` 5, Linux ≥ 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    fn()
    return _status_kb(pid, "VmHWM") * 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


@pytest.fixture(scope="module")
def servers(request, tmp_path_factory):
    series = request.config.getoption("--sidecar-series")
    data = tsdb(series)
    workdir = tmp_path_factory.mktemp("bench")
    with PrometheusServer(workdir, external_labels={"cluster": "bench", "replica": "0"}, data_from=data) as prom:
        with sidecar(workdir, prom.url) as side:
            channel = grpc.insecure_channel(side.grpc_address, options=[("grpc.max_receive_message_length", -1)])
            yield series, prom, side, channel
            channel.close()


def test_sidecar_versus_remote_read(benchmark, servers):
    series, prom, side, channel = servers
    everything = [(EQ, "__name__", "bench_requests_total")]
    tenth = [*everything, (EQ, "job", "bench0")]
    # Warm both paths (page cache, connections) and check they agree.
    raw_bytes = read_raw(prom.url, everything)
    messages, _ = read_sidecar(channel, everything, 0)
    assert messages >= series

    raw = best(lambda: read_raw(prom.url, everything), ROUNDS)
    v026 = benchmark.pedantic(read_sidecar, args=(channel, everything, 0), rounds=ROUNDS, iterations=1)
    assert v026[0] == messages
    one_per_message = benchmark.stats.stats.min
    batched = best(lambda: read_sidecar(channel, everything, 64), ROUNDS)

    pid = side.proc.pid
    idle = _status_kb(pid, "VmRSS") * 1024
    peak_tenth = peak_rss_during(pid, lambda: read_sidecar(channel, tenth, 0))
    peak_all = peak_rss_during(pid, lambda: read_sidecar(channel, everything, 0))

    samples = series * (HOURS * 3600 // INTERVAL_S + 1)
    benchmark.extra_info.update({
        "series": series,
        "samples": samples,
        "remote_read_bytes": raw_bytes,
        "raw_remote_read_s": round(raw, 3),
        "sidecar_v026_s": round(one_per_message, 3),
        "sidecar_batched_s": round(batched, 3),
        "ratio_v026": round(one_per_message / raw, 3),
        "ratio_batched": round(batched / raw, 3),
        "sidecar_rss_idle_mib": round(idle / 2**20, 1),
        "sidecar_peak_rss_tenth_mib": round(peak_tenth / 2**20, 1),
        "sidecar_peak_rss_all_mib": round(peak_all / 2**20, 1),
    })
