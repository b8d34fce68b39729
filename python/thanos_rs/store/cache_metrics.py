"""The index cache's metrics, with the names and help of Thanos's in-memory
index cache (``pkg/store/cache/inmemory.go``), read from the Rust cache's
counters at each scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from thanos_rs import _core

# (metric, help, counter of the Rust cache), per item type.
_COUNTERS = [
    ("thanos_store_index_cache_requests", "Total number of requests to the cache.", "requests"),
    ("thanos_store_index_cache_hits", "Total number of requests to the cache that were a hit.", "hits"),
    ("thanos_store_index_cache_items_added", "Total number of items that were added to the index cache.", "added"),
    ("thanos_store_index_cache_items_evicted", "Total number of items that were evicted from the index cache.",
     "evicted"),
    ("thanos_store_index_cache_items_overflowed",
     "Total number of items that could not be added to the cache due to being too big.", "overflowed"),
]
_GAUGES = [
    ("thanos_store_index_cache_items", "Current number of items in the index cache.", "items"),
    ("thanos_store_index_cache_total_size_bytes",
     "Current byte size of items (both value and key) in the index cache.", "bytes"),
]


class IndexCacheCollector(Collector):
    def __init__(self, core: _core.BucketStore) -> None:
        self.core = core

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        stats = self.core.index_cache_stats()
        for families, kind in ((_COUNTERS, CounterMetricFamily), (_GAUGES, GaugeMetricFamily)):
            for name, help_text, counter in families:
                family = kind(name, help_text, labels=["item_type"])
                for item_type, values in sorted(stats.items()):
                    family.add_metric([item_type], values[counter])
                yield family
        max_bytes, max_item_bytes = self.core.index_cache_limits()
        yield GaugeMetricFamily("thanos_store_index_cache_max_size_bytes",
                                "Maximum number of bytes to be held in the index cache.", value=max_bytes)
        yield GaugeMetricFamily("thanos_store_index_cache_max_item_size_bytes",
                                "Maximum number of bytes for single entry to be held in the index cache.",
                                value=max_item_bytes)
