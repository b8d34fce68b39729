"""thanos_rs: the global-view layer of Thanos with a Rust core.

A sidecar serves a Prometheus server's data over the Thanos StoreAPI; a querier
fans out to many StoreAPIs, merges and de-duplicates HA replicas, evaluates PromQL
and serves the Prometheus HTTP API. Run them with ``python -m thanos_rs sidecar``
and ``python -m thanos_rs query``, using Thanos's own flag names.
"""

from thanos_rs._core import __version__

__all__ = ["__version__"]
