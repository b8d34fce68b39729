"""What the querier's four requests of :mod:`thanos_rs._core` share
(``DistributedQuery``, ``SeriesQuery``, ``LabelsQuery``, ``ProxySeries``; the
Rust trait ``FanOut`` in ``rust/python/src/fanout.rs``): Rust plans the store
calls, Python makes them, and a store that fails becomes a warning under
partial response. The querier's fan-out code is written once, against this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Call", "FanOut", "Store"]

#: A store as the core reads it: (label sets, min time ms, max time ms).
Store = tuple[Sequence[Sequence[tuple[str, str]]], int, int]

#: A call to make: (group, store index, serialized request). The calls of a
#: group run concurrently, at most ``--query.max-concurrent-select`` groups
#: at a time.
Call = tuple[int, int, bytes]


class FanOut(Protocol):
    @property
    def partial_response(self) -> bool:
        """Whether a failing store leaves a warning (true) or fails the request."""
        ...

    def calls(self, stores: Sequence[Store]) -> list[Call]:
        """The calls to make to ``stores``, by index."""
        ...

    def add_warning(self, warning: str) -> None:
        """A warning from outside the answers, such as a store that failed."""
        ...
