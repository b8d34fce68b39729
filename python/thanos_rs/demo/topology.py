"""The Thanos global-view tutorial's topology (``tutorials/katacoda/thanos/
1-globalview`` at v0.26.0): Prometheus eu1, the us1 HA pair scraping each
other, a sidecar for each (scraped by its Prometheus), and a querier
deduplicating on ``replica``."""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Ports:
    prometheus: tuple[int, int, int] = (9090, 9091, 9092)
    sidecar_grpc: tuple[int, int, int] = (19190, 19191, 19192)
    sidecar_http: tuple[int, int, int] = (19090, 19091, 19092)
    query_http: int = 29090
    query_grpc: int = 10901

    def all(self) -> list[int]:
        return [*self.prometheus, *self.sidecar_grpc, *self.sidecar_http, self.query_http, self.query_grpc]


@dataclass(frozen=True)
class PrometheusSpec:
    """One of the tutorial's Prometheus servers and its sidecar."""

    name: str  # prometheus0_eu1, as the tutorial's config files are named
    cluster: str
    replica: str
    index: int  # 0, 1, 2: which of the ports

    def config(self, ports: Ports, host: str) -> str:
        """The tutorial's configuration (step 2: with the sidecar scrape job)."""
        if self.cluster == "eu1":
            prometheus = [f"{host}:{ports.prometheus[0]}"]
            sidecars = [f"{host}:{ports.sidecar_http[0]}"]
        else:
            prometheus = [f"{host}:{p}" for p in ports.prometheus[1:]]
            sidecars = [f"{host}:{p}" for p in ports.sidecar_http[1:]]
        config = {
            "global": {
                "scrape_interval": "15s",
                "evaluation_interval": "15s",
                "external_labels": {"cluster": self.cluster, "replica": self.replica},
            },
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": prometheus}]},
                {"job_name": "sidecar", "static_configs": [{"targets": sidecars}]},
            ],
        }
        return yaml.safe_dump(config, sort_keys=False)


TOPOLOGY = (
    PrometheusSpec("prometheus0_eu1", "eu1", "0", 0),
    PrometheusSpec("prometheus0_us1", "us1", "0", 1),
    PrometheusSpec("prometheus1_us1", "us1", "1", 2),
)
