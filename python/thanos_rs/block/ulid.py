"""ULIDs, which name blocks (github.com/oklog/ulid, as Prometheus and Thanos
use it): 48 bits of Unix milliseconds, then 80 random bits, written as 26
characters of Crockford's base32. The time part says when a block was made,
which the compactor's delays are measured from."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DIGITS = {c: i for i, c in enumerate(_ALPHABET)}


def new(ms: int | None = None) -> str:
    """A ULID for the time ``ms`` (now by default)."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def time_ms(ulid: str) -> int:
    """The Unix milliseconds in ``ulid`` (its first ten characters)."""
    value = 0
    for c in ulid[:10]:
        value = value * 32 + _DIGITS[c]
    return value
