"""The querier: PromQL over many StoreAPIs, with HA replica deduplication
(``pkg/query`` and ``cmd/thanos/query.go`` upstream).

:class:`Querier` is the Python API (see :mod:`thanos_rs.query.client`);
``python -m thanos_rs query`` serves the same over HTTP and gRPC.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Querier", "Series", "Sample", "PartialResponseWarning"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that the command line starts without gRPC.
    if name in __all__:
        from thanos_rs.query import client

        return getattr(client, name)
    raise AttributeError(name)
