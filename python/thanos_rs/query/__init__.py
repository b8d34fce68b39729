"""The querier: PromQL over many StoreAPIs, with HA replica deduplication
(``pkg/query`` and ``cmd/thanos/query.go`` upstream)."""
