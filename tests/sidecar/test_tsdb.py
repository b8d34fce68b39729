"""``thanos_rs._core.Tsdb``, the sidecar's reader of Prometheus's data
directory, called as the sidecar calls it, on the backfilled test data: the
answer comes in pieces of about the asked size whatever the batching, and a
directory it cannot read is a clear error."""

from __future__ import annotations

import pytest

from support import protos
from support.storeclient import RE
from support.tsdb import DATA, EXTERNAL
from thanos_rs._core import Tsdb
from thanos_rs.errors import CorruptBlockError, StoreError

PB = protos.load()


def request(batch: int) -> bytes:
    matchers = [PB.types.LabelMatcher(type=RE, name="__name__", value=".+")]
    return PB.rpc.SeriesRequest(min_time=0, max_time=2**62, matchers=matchers,
                                response_batch_size=batch).SerializeToString()


def read_all(selection, budget: int) -> list[list[bytes]]:
    pieces = []
    while messages := selection.next(budget):
        pieces.append(messages)
    return pieces


@pytest.mark.parametrize("batch", [0, 10, 2**62])
def test_every_series_arrives_whatever_the_budget_and_batch(tsdb, batch):
    db = Tsdb(str(tsdb))
    for budget in (1, 100_000, 1 << 30):
        pieces = read_all(db.series(request(batch), sorted(EXTERNAL.items()), 0), budget)
        series = []
        for m in (m for piece in pieces for m in piece):
            r = PB.rpc.SeriesResponse.FromString(m)
            series += [r.series] if r.WhichOneof("result") == "series" else list(r.batch.series)
        assert len(series) == len(DATA.series) == 157, (batch, budget)
        if budget == 1 and batch != 2**62:
            assert len(pieces) > 1, "a small budget answers in several pieces"


def test_unreadable_and_damaged_directories_are_clear_errors(tmp_path, tsdb):
    with pytest.raises(StoreError, match="No such file"):
        Tsdb(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="not a Prometheus 2.x data directory"):
        Tsdb(str(tmp_path / "empty"))
    damaged = tmp_path / "data"
    block = next(p for p in tsdb.iterdir() if (p / "meta.json").exists())
    (damaged / block.name).mkdir(parents=True)
    (damaged / block.name / "meta.json").write_bytes((block / "meta.json").read_bytes())
    (damaged / block.name / "index").write_bytes(b"\x00" * 64)
    (damaged / block.name / "chunks").mkdir()
    with pytest.raises(CorruptBlockError, match="index.*invalid magic number"):
        Tsdb(str(damaged))
