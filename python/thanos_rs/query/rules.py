"""The querier's rules and alerts (Thanos's ``pkg/rules/proxy.go`` and
``pkg/rules/rules.go``): ``thanos.Rules/Rules`` asked of every endpoint that
announces it, the answers merged and deduplicated by Rust into the ``data``
of Prometheus's ``/api/v1/rules`` or ``/api/v1/alerts``. (The querier's own
``thanos.Rules/Rules`` is in :mod:`thanos_rs.query.proxy_apis`.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence


from thanos_rs._core import encode_rules_request, merge_rules
from thanos_rs.query.apis import RULES, gather
from thanos_rs.query.querier import Answer, AsyncQuerier

__all__ = ["rules"]


async def rules(
    querier: AsyncQuerier,
    kind: str = "",
    *,
    alerts: bool = False,
    dedup: bool = True,
    replica_labels: list[str] | None = None,
    partial_response: bool | None = None,
    timeout: float | None = None,
    rule_names: Sequence[str] = (),
    groups: Sequence[str] = (),
    files: Sequence[str] = (),
) -> Answer:
    """The rules of ``kind`` (``""``, ``"alert"`` or ``"record"``), or with
    ``alerts`` the alerts of every alerting rule; only those named in
    ``rule_names``, in the groups and files named, when given. Without partial
    response an endpoint that fails raises :class:`~thanos_rs.errors.StoreError`."""
    partial = querier.options.partial_response if partial_response is None else partial_response
    limit = min(querier.options.timeout, timeout) if timeout is not None else querier.options.timeout
    gathered = await gather(
        querier.endpoints.serving(RULES.name), RULES, encode_rules_request(kind),
        partial_response=partial, timeout=limit,
    )
    labels = (list(replica_labels) if replica_labels else list(querier.options.replica_labels)) if dedup else []
    messages = [m for answer in gathered.answers for m in answer]
    data, warnings = await asyncio.to_thread(
        merge_rules, messages, kind, labels, alerts, list(rule_names), list(groups), list(files)
    )
    return Answer(data, gathered.warnings + warnings)
