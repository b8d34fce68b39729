"""The sidecar: a Thanos StoreAPI in front of one Prometheus server
(``pkg/store/prometheus.go`` and ``cmd/thanos/sidecar.go`` upstream)."""
