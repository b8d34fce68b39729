"""The Rust ``SeriesStream`` seen from Python: what it makes of a request, and
the errors for requests to refuse. The messages it makes of remote-read
answers are checked through the client that feeds it (``test_remote_client.py``)."""

from __future__ import annotations

import pytest

from support import protos
from support.storeclient import EQ, NEQ, RE
from support.tsdb import EXTERNAL
from thanos_rs._core import SeriesStream
from thanos_rs.errors import BadDataError

EXT = sorted(EXTERNAL.items())


def request(matchers, min_time=0, max_time=2**63 - 1, **fields) -> bytes:
    pb = protos.load()
    ms = [pb.types.LabelMatcher(type=t, name=n, value=v) for t, n, v in matchers]
    return pb.rpc.SeriesRequest(min_time=min_time, max_time=max_time, matchers=ms, **fields).SerializeToString()


def test_the_time_range_is_clamped_to_what_is_served():
    stream = SeriesStream(request([(EQ, "cluster", "eu1"), (RE, "job", "a|b"), (NEQ, "x", "")], -10, 500), EXT, 7)
    assert stream.matches and not stream.skip_chunks
    assert stream.time_range == (7, 500)
    assert stream.frames == 0


def test_bad_requests_raise_bad_data():
    with pytest.raises(BadDataError, match="unmarshal SeriesRequest"):
        SeriesStream(b"\x0a\xff", EXT, 0)
    with pytest.raises(BadDataError, match=r"no matchers specified \(excluding external labels\)"):
        SeriesStream(request([(EQ, "replica", "0")]), EXT, 0)
    assert not SeriesStream(request([(EQ, "replica", "1")]), EXT, 0).matches
