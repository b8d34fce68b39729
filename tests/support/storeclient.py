"""A StoreAPI client for tests, a stand-in for a Thanos querier: grpcio with the
protobuf stubs compiled from ``proto/`` (not our Rust code), reading Series
streams either one series per message (v0.26) or in batches (Thanos main)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import grpc

from thanos_rs.chunkenc import decode_xor
from support import protos

Labels = tuple[tuple[str, str], ...]

EQ, NEQ, RE, NRE = 0, 1, 2, 3
MAX_TIME = 2**63 - 1


@dataclass
class StoreClient:
    address: str
    credentials: grpc.ChannelCredentials | None = None

    def __post_init__(self) -> None:
        pb = protos.load()
        # Its own subchannels: grpcio shares them process-wide, and one that
        # failed earlier would fail this client too until its backoff ends.
        # No limit on message size, as a Thanos querier (math.MaxInt32): a
        # batch of long series is larger than grpcio's default 4 MiB.
        options = [("grpc.use_local_subchannel_pool", 1), ("grpc.max_receive_message_length", -1)]
        if self.credentials is None:
            self.channel = grpc.insecure_channel(self.address, options=options)
        else:
            self.channel = grpc.secure_channel(self.address, self.credentials, options=options)
        self.store = pb.rpc_grpc.StoreStub(self.channel)
        self.info_stub = pb.info_grpc.InfoStub(self.channel)
        self.pb = pb

    def close(self) -> None:
        self.channel.close()

    def info(self):
        return self.info_stub.Info(self.pb.info.InfoRequest(), timeout=10)

    def store_info(self):
        return self.store.Info(self.pb.rpc.InfoRequest(), timeout=10)

    def series_request(self, matchers, min_time=0, max_time=MAX_TIME, **fields):
        ms = [self.pb.types.LabelMatcher(type=t, name=n, value=v) for t, n, v in matchers]
        return self.pb.rpc.SeriesRequest(min_time=min_time, max_time=max_time, matchers=ms, **fields)

    def series_messages(self, matchers, min_time=0, max_time=MAX_TIME, **fields) -> list:
        """Every SeriesResponse of one call."""
        req = self.series_request(matchers, min_time, max_time, **fields)
        return list(self.store.Series(req, timeout=120))

    def series(self, matchers, min_time=0, max_time=MAX_TIME, **fields) -> list:
        """Every Series of one call, in order, whether batched or not."""
        out = []
        for msg in self.series_messages(matchers, min_time, max_time, **fields):
            kind = msg.WhichOneof("result")
            if kind == "series":
                out.append(msg.series)
            elif kind == "batch":
                out.extend(msg.batch.series)
            else:
                raise AssertionError(f"unexpected {kind} message: {msg}")
        return out

    def samples(self, matchers, min_time=0, max_time=MAX_TIME, **fields) -> dict[Labels, list[tuple[int, float]]]:
        """Samples in ``[min_time, max_time]`` by series: consecutive messages of
        one series (a long series arrives in several) are joined, as a querier does."""
        out: dict[Labels, list[tuple[int, float]]] = {}
        order: list[Labels] = []
        for s in self.series(matchers, min_time, max_time, **fields):
            key = tuple((label.name, label.value) for label in s.labels)
            if not order or order[-1] != key:
                assert key not in out, f"series {key} resumed after another series started"
                order.append(key)
                out[key] = []
            for c in s.chunks:
                assert c.raw.type == 0, "StoreAPI XOR is 0"
                ts, vs = decode_xor(c.raw.data)
                assert (ts[0], ts[len(ts) - 1]) == (c.min_time, c.max_time)
                out[key] += [(t, v) for t, v in zip(ts, vs) if min_time <= t <= max_time]
        assert order == sorted(order), "series must come sorted by labels"
        return out

    def label_names(self, matchers=(), start=0, end=MAX_TIME, **fields) -> list[str]:
        ms = [self.pb.types.LabelMatcher(type=t, name=n, value=v) for t, n, v in matchers]
        req = self.pb.rpc.LabelNamesRequest(start=start, end=end, matchers=ms, **fields)
        return list(self.store.LabelNames(req, timeout=30).names)

    def label_values(self, label, matchers=(), start=0, end=MAX_TIME, **fields) -> list[str]:
        ms = [self.pb.types.LabelMatcher(type=t, name=n, value=v) for t, n, v in matchers]
        req = self.pb.rpc.LabelValuesRequest(label=label, start=start, end=end, matchers=ms, **fields)
        return list(self.store.LabelValues(req, timeout=30).values)


def sample_bits(samples: list[tuple[int, float]]) -> list[tuple[int, int]]:
    """The samples with each value as its 64 bits: NaNs compare equal only
    when they are the same NaN (a staleness marker is not a plain NaN)."""
    return [(t, struct.unpack("<q", struct.pack("<d", v))[0]) for t, v in samples]


def by_bits(series: dict) -> dict:
    """``{labels: samples}`` with :func:`sample_bits` samples, to compare whole answers."""
    return {k: sample_bits(v) for k, v in series.items()}


def same_samples(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> bool:
    """Equal timestamps and equal values (NaN equals NaN)."""
    if len(a) != len(b):
        return False
    for (ta, va), (tb, vb) in zip(a, b):
        if ta != tb or not (va == vb or (math.isnan(va) and math.isnan(vb))):
            return False
    return True
