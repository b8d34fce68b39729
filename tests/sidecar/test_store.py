"""The StoreAPI of the sidecar in front of a real Prometheus 2.42, read by a
grpcio client made from our protos as a Thanos querier reads it, on both read
paths (remote read, and the data directory with ``--tsdb.path``): Series gives
exactly the samples Prometheus's own HTTP API gives, in v0.26 style (one series
per message) and batched style; Info, Store/Info, LabelNames and LabelValues
answer as Thanos's sidecar does."""

from __future__ import annotations

import grpc
import pytest

from support.storeclient import EQ, MAX_TIME, NEQ, NRE, RE, same_samples
from support.tsdb import DATA, EXTERNAL

pytestmark = pytest.mark.prometheus

START_MS = round(DATA.start * 1000)
END_MS = round(DATA.end * 1000)


def selector(matchers) -> str:
    ops = {EQ: "=", NEQ: "!=", RE: "=~", NRE: "!~"}
    return "{" + ", ".join(f'{n}{ops[t]}"{v}"' for t, n, v in matchers) + "}"


def from_prometheus(prom, matchers, start_ms: int, end_ms: int) -> dict:
    """The raw samples Prometheus's HTTP API returns for the selector over
    ``[start_ms, end_ms]`` (a range selector; closed at both ends in 2.42), with
    the external labels a sidecar adds."""
    ours = [(t, n, v) for t, n, v in matchers if n not in EXTERNAL]
    data = prom.api("/api/v1/query", query=f"{selector(ours)}[{end_ms - start_ms}ms]", time=f"{end_ms / 1000:.3f}")
    assert data["resultType"] == "matrix"
    out = {}
    for s in data["result"]:
        labels = tuple(sorted({**s["metric"], **EXTERNAL}.items()))
        out[labels] = [(round(float(t) * 1000), float(v)) for t, v in s["values"]]
    return out


def assert_same(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for k in theirs:
        assert same_samples(ours[k], theirs[k]), k


ALL = [(RE, "__name__", ".+")]
CASES = {
    "every series, all time": (ALL, START_MS, END_MS),
    "equal": ([(EQ, "__name__", "node_memory_used_bytes")], START_MS, END_MS),
    "not equal": ([(EQ, "__name__", "http_requests_total"), (NEQ, "code", "200")], START_MS, END_MS),
    "regex": ([(RE, "__name__", "http_request_duration_seconds_(sum|count)"), (RE, "job", "job[02]")],
              START_MS + 3_600_000, END_MS - 3_600_000),
    "not regex": ([(RE, "__name__", "http_.*"), (NRE, "instance", "host[13]:9100")], START_MS, START_MS + 7_200_000),
    "regex matching the empty value": ([(EQ, "__name__", "http_request_duration_seconds_bucket"),
                                        (RE, "le", "0.5|")], START_MS, END_MS),
    "not equal to the empty value": ([(EQ, "job", "job1"), (NEQ, "code", "")], START_MS, END_MS),
    "a window inside one chunk": ([(EQ, "__name__", "up")], START_MS + 601_234, START_MS + 1_800_000),
    "matching external labels": ([(EQ, "cluster", "eu1"), (RE, "replica", "0|1"), (EQ, "__name__", "up")],
                                 START_MS, END_MS),
    "external label not equal to another value": ([(NEQ, "cluster", "us1"), (EQ, "__name__", "flaky_gauge")],
                                                  START_MS, END_MS),
}


@pytest.mark.parametrize("batch", [0, 64], ids=["v0.26 one series per message", "batched"])
@pytest.mark.parametrize("case", list(CASES))
def test_series_returns_exactly_what_prometheus_returns(prom, client, case, batch):
    matchers, start, end = CASES[case]
    ours = client.samples(matchers, start, end, response_batch_size=batch)
    theirs = from_prometheus(prom, matchers, start, end)
    assert theirs, "the case must select something"
    assert_same(ours, theirs)


def test_every_series_of_the_dataset_arrives_whole(client):
    ours = client.samples(ALL)
    assert len(ours) == len(DATA.series) == 157
    for labels, samples in DATA.series.items():
        key = tuple(sorted({**dict(labels), **EXTERNAL}.items()))
        assert same_samples(ours[key], samples), key


def test_each_read_path_reads_only_where_it_should(prom, client, side):
    reads_before = prom.requests_served("/api/v1/read")
    assert client.samples([(EQ, "__name__", "up")])
    reads = prom.requests_served("/api/v1/read") - reads_before
    direct = side.metric("thanos_sidecar_tsdb_direct_read")
    if side.read_path == "tsdb-path":
        assert (reads, direct) == (0, 1)
    else:
        assert (reads, direct) == (1, 0)


def test_long_series_span_several_frames_and_messages(client, side):
    if side.read_path != "remote-read":
        # Chunks from disk come whole, one message per series.
        messages = client.series_messages([(EQ, "__name__", "node_memory_used_bytes")])
        assert len(messages) == 12
        return
    frames_before = side.metric("prometheus_store_received_frames_sum") or 0
    messages = client.series_messages([(EQ, "__name__", "node_memory_used_bytes")])
    series = [m.series for m in messages]
    assert len(series) > 12 * 3, "1 KiB frames cut each of the 12 series into several messages"
    # Each message is one time slice; slices of a series follow each other in time.
    first = [s for s in series if s.labels == series[0].labels]
    assert len(first) >= 3
    assert all(a.chunks[-1].max_time < b.chunks[0].min_time for a, b in zip(first, first[1:]))
    assert side.metric("prometheus_store_received_frames_sum") - frames_before == len(series)


def test_chunk_bytes_pass_through_unchanged(prom, client):
    from support import remote_read

    body = remote_read.fetch(prom.url, remote_read.read_request([(EQ, "__name__", "up")], 0, MAX_TIME))
    theirs = [bytes(c.data) for s in remote_read.chunked_series(body) for c in s.chunks]
    ours = [bytes(c.raw.data) for s in client.series([(EQ, "__name__", "up")]) for c in s.chunks]
    assert ours == theirs and len(ours) > 12


def test_batches_hold_up_to_the_asked_number_of_series(client):
    messages = client.series_messages([(EQ, "__name__", "up")], response_batch_size=5)
    assert {m.WhichOneof("result") for m in messages} == {"batch"}
    sizes = [len(m.batch.series) for m in messages]
    assert all(n == 5 for n in sizes[:-1]) and 1 <= sizes[-1] <= 5
    single = client.series_messages([(EQ, "__name__", "up")], response_batch_size=1)
    assert {m.WhichOneof("result") for m in single} == {"series"}
    assert sum(sizes) == len(single)
    # Any int64 is a legal batch size (we answered INTERNAL "capacity
    # overflow" for 2^62, as Thanos main's batchableServer panics allocating
    # it up front): all in one batch.
    for huge in (2**62, 2**63 - 1):
        (whole,) = client.series_messages([(EQ, "__name__", "up")], response_batch_size=huge)
        assert len(whole.batch.series) == len(single)


def test_without_replica_labels_drops_them(client):
    series = client.series([(EQ, "__name__", "up")], without_replica_labels=["replica"])
    assert series
    for s in series:
        names = [label.name for label in s.labels]
        assert "replica" not in names and "cluster" in names


def test_external_label_mismatch_is_an_empty_answer(client):
    assert client.series_messages([(EQ, "cluster", "us1"), (EQ, "__name__", "up")]) == []
    assert client.series_messages([(NRE, "replica", "0"), (RE, "__name__", ".+")]) == []


def test_skip_chunks_gives_labels_from_the_series_api(prom, client):
    series = client.series([(EQ, "__name__", "up")], skip_chunks=True)
    theirs = prom.api("/api/v1/series", **{"match[]": "up"})
    assert sorted(tuple((label.name, label.value) for label in s.labels) for s in series) == sorted(
        tuple(sorted({**m, **EXTERNAL}.items())) for m in theirs
    )
    assert all(not s.chunks for s in series)


def test_min_time_is_prometheus_oldest_sample_and_max_time_the_end_of_time(client):
    """As current Thanos announces them (v0.26 said year 0 until it uploaded
    blocks): what a stores page shows as the sidecar's range."""
    info = client.info()
    assert info.ComponentType == "sidecar"
    assert [(label.name, label.value) for label in info.label_sets[0].labels] == sorted(EXTERNAL.items())
    oldest = min(t for samples in DATA.series.values() for t, _ in samples)
    assert START_MS - 5 <= oldest <= START_MS
    assert (info.store.min_time, info.store.max_time) == (oldest, MAX_TIME)
    assert info.store.supports_without_replica_labels
    # Served over Prometheus's HTTP API, so announced.
    for api in ("rules", "targets", "metric_metadata", "exemplars"):
        assert info.HasField(api), api
    # Not served here, so not announced: a querier never asks for it.
    assert not info.HasField("query")


def test_legacy_store_info_is_a_sidecar(client):
    info = client.store_info()
    assert info.storeType == client.pb.rpc.SIDECAR
    assert [(label.name, label.value) for label in info.labels] == sorted(EXTERNAL.items())
    assert list(info.label_sets[0].labels) == list(info.labels)
    oldest = min(t for samples in DATA.series.values() for t, _ in samples)
    assert (info.min_time, info.max_time) == (oldest, MAX_TIME)


def test_label_names_include_external_labels(prom, client):
    theirs = prom.api("/api/v1/labels")
    assert client.label_names() == sorted(set(theirs) | set(EXTERNAL))
    # With matchers and a time range, through Prometheus's label API.
    names = client.label_names([(EQ, "__name__", "http_requests_total")], START_MS, END_MS)
    assert names == ["__name__", "cluster", "code", "instance", "job", "replica"]
    # A range without data has no names at all, not even the external ones.
    assert client.label_names([(EQ, "__name__", "up")], 0, 1000) == []
    assert client.label_names([(EQ, "cluster", "us1")]) == []
    assert "replica" not in client.label_names(without_replica_labels=["replica"])


def test_label_values(prom, client):
    assert client.label_values("job") == ["job0", "job1", "job2"]
    assert client.label_values("code", [(EQ, "job", "job1"), (EQ, "instance", "host2:9100")]) == ["200", "500"]
    assert client.label_values("job", [(EQ, "cluster", "us1")]) == []
    assert client.label_values("job", [(EQ, "__name__", "up")], 0, 1000) == []
    # An external label short-cuts to its value, whatever the matchers.
    assert client.label_values("cluster") == ["eu1"]
    assert client.label_values("replica", [(EQ, "cluster", "nowhere")]) == ["0"]
    assert client.label_values("replica", without_replica_labels=["replica"]) == []
    assert client.label_values("no_such_label") == []


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: c.series([(EQ, "cluster", "eu1")]), "no matchers specified (excluding external labels)"),
        (lambda c: c.series([(RE, "__name__", "(")]), "error parsing regexp"),
        (lambda c: c.series([(7, "__name__", "up")]), "unrecognized label matcher type 7"),
        (lambda c: c.label_names([(RE, "job", "[")]), "error parsing regexp"),
        (lambda c: c.label_values("job", [(NRE, "job", "*")]), "error parsing regexp"),
        (lambda c: c.label_values(""), "label name parameter cannot be empty"),
    ],
    ids=["only external matchers", "bad regex", "bad matcher type", "labels bad regex", "values bad regex",
         "empty label name"],
)
def test_invalid_requests_are_invalid_argument(client, call, message):
    with pytest.raises(grpc.RpcError) as e:
        call(client)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in e.value.details()


def test_health_service_and_server_metrics(side, client):
    check = client.channel.unary_unary("/grpc.health.v1.Health/Check")
    assert check(b"", timeout=5) == b"\x08\x01"
    client.series([(EQ, "__name__", "up")])
    with pytest.raises(grpc.RpcError):
        client.series([(EQ, "cluster", "eu1")])
    handled = side.metric("grpc_server_handled_total", grpc_code="OK", grpc_method="Series",
                          grpc_service="thanos.Store", grpc_type="server_stream")
    assert handled and handled >= 1
    assert side.metric("grpc_server_handled_total", grpc_code="InvalidArgument", grpc_method="Series",
                       grpc_service="thanos.Store", grpc_type="server_stream") is not None


def test_our_querier_reads_through_the_sidecar(tmp_path, prom, side):
    from support.components import querier

    t = f"{(START_MS + 7_200_000) / 1000:.3f}"
    theirs = prom.api("/api/v1/query", query="sum by (job) (rate(http_requests_total[5m]))", time=t)
    with querier(tmp_path, [side.grpc_address]) as q:
        ours = q.api("/api/v1/query", {"query": "sum by (job, cluster) (rate(http_requests_total[5m]))", "time": t})
    assert sorted((s["metric"]["job"], s["value"]) for s in theirs["result"]) == sorted(
        (s["metric"]["job"], s["value"]) for s in ours["result"]
    )
    assert {s["metric"]["cluster"] for s in ours["result"]} == {"eu1"}
