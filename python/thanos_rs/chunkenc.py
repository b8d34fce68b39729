"""Prometheus's XOR chunk format, bit-exact with Prometheus 2.42.

``decode_xor`` and ``decode_xor_many`` return :class:`SampleArray` objects: read-only
arrays exposing the buffer protocol in native byte order (``q`` for int64
millisecond timestamps, ``d`` for float64 values), so ``memoryview``,
``array.array`` or numpy read them without a copy. Every NaN keeps its bit
pattern, so Prometheus's stale marker ``0x7ff0000000000002`` survives.

A truncated or corrupt chunk raises :class:`thanos_rs.errors.CorruptChunkError`.
"""

from thanos_rs._core import SampleArray, decode_xor, decode_xor_many, encode_xor

__all__ = ["SampleArray", "decode_xor", "decode_xor_many", "encode_xor"]
