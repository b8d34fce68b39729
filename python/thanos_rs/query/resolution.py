"""The lookback delta of a query that may read downsampled data.

Thanos's querier keeps one PromQL engine per resolution (``engineFactory`` in
cmd/thanos/query.go, v0.26): under ``--query.dynamic-lookback-delta`` (on by
default) a query whose ``max_source_resolution`` admits 5 m or 1 h data looks
back at least one window of that resolution, so that an instant selector at a
1 h step still finds the 1 h sample before it.
"""

from __future__ import annotations

from thanos_rs.compact.downsample import RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW

__all__ = ["lookback_delta_ms"]


def lookback_delta_ms(base_ms: int, max_source_resolution_ms: int, dynamic: bool = True) -> int:
    """The lookback delta for a query: ``base_ms`` (``--query.lookback-delta``)
    raised to the coarsest resolution the query may read, the way Thanos
    picks among its engines."""
    resolutions = (RESOLUTION_RAW, RESOLUTION_5M, RESOLUTION_1H) if dynamic else (RESOLUTION_RAW,)
    lookbacks = []
    lookback = base_ms
    for r in resolutions:
        if base_ms < r:
            lookback = r
        lookbacks.append(lookback)
    # A resolution is used once the query admits data coarser than both the
    # one below it and the flag's lookback.
    for i in range(len(resolutions) - 1, 0, -1):
        if max(resolutions[i - 1], base_ms) < max_source_resolution_ms:
            return lookbacks[i]
    return lookbacks[0]
