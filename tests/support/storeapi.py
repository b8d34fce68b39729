"""A StoreAPI server for tests, built on grpcio and the protobuf stubs compiled
from ``proto/`` (not on our Rust code): it serves given series as a Thanos
sidecar would (external labels added, XOR chunks of 120 samples, sorted
series), answers Info, LabelNames and LabelValues, and can misbehave on
demand: fail, hang, send a corrupt message, or split series over messages.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent import futures
from dataclasses import dataclass, field

import grpc

from thanos_rs.chunkenc import encode_xor
from support import protos

Series = tuple[tuple[tuple[str, str], ...], list[tuple[int, float]]]

#: Samples per chunk, as Prometheus cuts them.
CHUNK_SAMPLES = 120


@dataclass
class Faults:
    """How the store misbehaves in ``Series``."""

    #: Abort every call with this status (e.g. ``grpc.StatusCode.UNAVAILABLE``).
    fail: grpc.StatusCode | None = None
    #: Sleep this long before answering.
    hang: float = 0.0
    #: Send one message that is not a valid SeriesResponse first.
    corrupt: bool = False
    #: Abort after this many series messages.
    fail_after: int | None = None
    #: Send these warning messages.
    warnings: list[str] = field(default_factory=list)
    #: After ``pause_after`` series messages, wait until this is set (at
    #: most a minute) before sending the rest or ending the stream.
    pause: threading.Event | None = None
    pause_after: int = 1


def _matches(m, value: str) -> bool:
    t = protos.load().types.LabelMatcher
    if m.type == t.EQ:
        return value == m.value
    if m.type == t.NEQ:
        return value != m.value
    found = re.fullmatch(m.value, value) is not None
    return found if m.type == t.RE else not found


class FakeStore:
    """A StoreAPI server on a free loopback port, run in a thread."""

    def __init__(
        self,
        series: Mapping[tuple[tuple[str, str], ...], list[tuple[int, float]]] | Iterable[Series],
        external_labels: Mapping[str, str],
        *,
        component: str = "sidecar",
        split_frames: bool = False,
        faults: Faults | None = None,
        legacy_info_only: bool = False,
        unreadable: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.p = protos.load()
        items = series.items() if isinstance(series, Mapping) else series
        self.external = dict(external_labels)
        self.component = component
        self.split_frames = split_frames
        self.faults = faults or Faults()
        # Stores older than Thanos v0.24 have no thanos.info.Info service.
        self.legacy_info_only = legacy_info_only
        # Series with one of these label pairs get chunks a querier of raw
        # floats cannot read: "histogram" (native histograms, Thanos main's
        # Chunk.HISTOGRAM) or "unknown" (an encoding number nobody writes).
        self.unreadable = dict(unreadable or {})
        self.requests: list = []
        self.series = []
        for labels, samples in items:
            merged = {**dict(labels), **self.external}  # external labels win, as in Thanos
            self.series.append((tuple(sorted(merged.items())), sorted(samples)))
        self.series.sort()
        self.server: grpc.Server | None = None
        self.address = ""

    # Lifecycle.

    def start(self, port: int = 0) -> FakeStore:
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handlers = {
            "thanos.Store": {
                "Info": self._unary(self._store_info),
                "Series": grpc.unary_stream_rpc_method_handler(self._series),
                "LabelNames": self._unary(self._label_names),
                "LabelValues": self._unary(self._label_values),
            },
        }
        if not self.legacy_info_only:
            handlers["thanos.info.Info"] = {"Info": self._unary(self._info)}
        self.server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(name, methods) for name, methods in handlers.items()]
        )
        port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.server.start()
        self.address = f"127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=None)
            self.server = None

    def __enter__(self) -> FakeStore:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @staticmethod
    def _unary(fn):
        return grpc.unary_unary_rpc_method_handler(fn)

    # What it announces.

    def time_range(self) -> tuple[int, int]:
        times = [t for _, s in self.series for t, _ in s]
        return (min(times), max(times)) if times else (0, 0)

    def _label_set(self):
        return self.p.labels.ZLabelSet(
            labels=[self.p.labels.Label(name=k, value=v) for k, v in sorted(self.external.items())]
        )

    def _info(self, request: bytes, context) -> bytes:
        mint, maxt = self.time_range()
        r = self.p.info.InfoResponse(
            label_sets=[self._label_set()] if self.external else [],
            ComponentType=self.component,
            store=self.p.info.StoreInfo(min_time=mint, max_time=maxt),
        )
        return r.SerializeToString()

    def _store_info(self, request: bytes, context) -> bytes:
        mint, maxt = self.time_range()
        types = {"sidecar": 3, "query": 1, "store": 4}
        r = self.p.rpc.InfoResponse(
            labels=self._label_set().labels, min_time=mint, max_time=maxt,
            storeType=types.get(self.component, 0), label_sets=[self._label_set()],
        )
        return r.SerializeToString()

    # Series.

    def _select(self, matchers, mint: int, maxt: int) -> list[Series]:
        out = []
        for labels, samples in self.series:
            lmap = dict(labels)
            if all(_matches(m, lmap.get(m.name, "")) for m in matchers):
                if any(mint <= t <= maxt for t, _ in samples):
                    out.append((labels, samples))
        return out

    def _chunks(self, samples: list[tuple[int, float]], mint: int, maxt: int):
        types = self.p.types
        out = []
        for i in range(0, len(samples), CHUNK_SAMPLES):
            part = samples[i : i + CHUNK_SAMPLES]
            if part[-1][0] < mint or part[0][0] > maxt:
                continue
            data = encode_xor([t for t, _ in part], [v for _, v in part])
            out.append(
                types.AggrChunk(
                    min_time=part[0][0], max_time=part[-1][0], raw=types.Chunk(type=types.Chunk.XOR, data=data)
                )
            )
        return out

    def _series(self, request: bytes, context) -> Iterable[bytes]:
        rpc, types = self.p.rpc, self.p.types
        req = rpc.SeriesRequest.FromString(request)
        self.requests.append(req)
        f = self.faults
        if f.hang:
            time.sleep(f.hang)
        if f.fail is not None:
            context.abort(f.fail, "store failure injected by the test")
        if f.corrupt:
            yield b"\x0a\xff\xff\xff\xff\x0f"
        for w in f.warnings:
            yield rpc.SeriesResponse(warning=w).SerializeToString()
        messages: list = []
        for labels, samples in self._select(req.matchers, req.min_time, req.max_time):
            pb_labels = [self.p.labels.Label(name=k, value=v) for k, v in labels]
            chunks = [] if req.skip_chunks else self._chunks(samples, req.min_time, req.max_time)
            kind = next((k for pair, k in self.unreadable.items() if pair in labels), None)
            for c in chunks if kind else []:
                if kind == "histogram":
                    c.raw.type = types.Chunk.HISTOGRAM
                else:
                    c.raw.type = 7  # an encoding no Prometheus or Thanos writes
            parts = [[c] for c in chunks] if self.split_frames and len(chunks) > 1 else [chunks]
            for part in parts:
                messages.append(types.Series(labels=pb_labels, chunks=part))
        batch = req.response_batch_size
        sent = 0
        groups = [messages[i : i + batch] for i in range(0, len(messages), batch)] if batch > 0 else messages
        for g in groups:
            if f.fail_after is not None and sent >= f.fail_after:
                context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost mid-stream (injected)")
            if batch > 0:
                yield rpc.SeriesResponse(batch=rpc.SeriesBatch(series=g)).SerializeToString()
            else:
                yield rpc.SeriesResponse(series=g).SerializeToString()
            sent += 1
            if f.pause is not None and sent == f.pause_after:
                f.pause.wait(60)

    # Labels.

    def _label_names(self, request: bytes, context) -> bytes:
        req = self.p.rpc.LabelNamesRequest.FromString(request)
        names = {k for labels, _ in self._select(req.matchers, req.start, req.end) for k, _ in labels}
        return self.p.rpc.LabelNamesResponse(names=sorted(names)).SerializeToString()

    def _label_values(self, request: bytes, context) -> bytes:
        req = self.p.rpc.LabelValuesRequest.FromString(request)
        values = {
            dict(labels)[req.label]
            for labels, _ in self._select(req.matchers, req.start, req.end)
            if req.label in dict(labels)
        }
        return self.p.rpc.LabelValuesResponse(values=sorted(values)).SerializeToString()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Polls until ``predicate()`` returns something true, and returns it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout}s")
        time.sleep(interval)
