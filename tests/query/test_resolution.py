"""The lookback delta by resolution, as Thanos v0.26's engineFactory picks
its engine (cmd/thanos/query.go)."""

from __future__ import annotations

import pytest

from thanos_rs.query.resolution import lookback_delta_ms

M, H = 60_000, 3_600_000


@pytest.mark.parametrize(("base", "resolution", "want"), [
    # The default 5 m: 1 h as soon as data coarser than 5 m may be read.
    (5 * M, 0, 5 * M), (5 * M, 5 * M, 5 * M), (5 * M, 5 * M + 1, H), (5 * M, 12 * M, H), (5 * M, H, H),
    # A shorter flag: raised to 5 m past it, to 1 h past 5 m.
    (M, 0, M), (M, M, M), (M, 2 * M, 5 * M), (M, 5 * M, 5 * M), (M, 6 * M, H),
    # A flag above 5 m: it stands until the resolution passes it.
    (10 * M, 6 * M, 10 * M), (10 * M, 11 * M, H),
    # Above 1 h: never lowered.
    (2 * H, 0, 2 * H), (2 * H, 3 * H, 2 * H),
])
def test_lookback_grows_with_the_resolution(base, resolution, want):
    assert lookback_delta_ms(base, resolution) == want


def test_without_dynamic_lookback_the_flag_stands():
    assert lookback_delta_ms(5 * M, H, dynamic=False) == 5 * M
