"""``_core.write_block`` writes a block of given chunks that Prometheus's
own tools read: ``promtool tsdb list`` finds it with its range and counts,
``promtool tsdb dump`` gives back every sample."""

from __future__ import annotations

import json
import subprocess

import pytest

from support.synthetic import write_block
from thanos_rs import _core
from thanos_rs.errors import BadDataError

pytestmark = pytest.mark.prometheus


def test_promtool_reads_what_write_block_writes(tmp_path):
    ts = list(range(1_000, 1_000 + 300 * 15_000, 15_000))
    series = [([("__name__", "up"), ("job", job)], ts, [float(i % 7) for i in range(len(ts))]) for job in "ba"]
    block = write_block(tmp_path, series)
    meta = json.loads((block / "meta.json").read_text())
    assert (meta["minTime"], meta["maxTime"]) == (ts[0], ts[-1] + 1)
    # 300 samples a series: chunks of 120, 120 and 60.
    assert meta["stats"] == {"numSamples": 600, "numSeries": 2, "numChunks": 6, "numTombstones": 0}
    assert meta["compaction"] == {"level": 1, "sources": [block.name]}
    listing = subprocess.run(["promtool", "tsdb", "list", str(tmp_path)], check=True, capture_output=True,
                             text=True).stdout
    assert block.name in listing and "600" in listing
    # promtool opens the directory as a database: it needs a write-ahead log.
    (tmp_path / "wal").mkdir()
    dump = subprocess.run(["promtool", "tsdb", "dump", str(tmp_path)], check=True, capture_output=True,
                          text=True).stdout.splitlines()
    assert len(dump) == 600
    # Series in label order, whatever order they were given in.
    assert dump[0] == '{__name__="up", job="a"} 0 1000' and dump[-1].startswith('{__name__="up", job="b"} 5 ')


def test_a_block_needs_a_chunk(tmp_path):
    with pytest.raises(BadDataError, match="at least one chunk"):
        _core.write_block(tmp_path, "01HZZZZZZZZZZZZZZZZZZZZZZZ", [([("a", "b")], [])])
