"""The HTTP side: Prometheus's API v1 with Thanos's parameters, and the web UI."""
