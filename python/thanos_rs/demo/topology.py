"""The Thanos global-view tutorial's topology (``tutorials/katacoda/thanos/
1-globalview`` at v0.26.0): Prometheus eu1, the us1 HA pair scraping each
other, a sidecar for each (scraped by its Prometheus), and a querier
deduplicating on ``replica``. Besides the tutorial's, each cluster scrapes
20 synthetic targets (jobs ``app0``-``app2``) from the demo's exporter."""

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
    exporter: int = 19100
    #: The store gateway's gRPC and HTTP ports (with --objstore).
    store: tuple[int, int] = (19290, 19291)

    def all(self, objstore: bool = False) -> list[int]:
        return [*self.prometheus, *self.sidecar_grpc, *self.sidecar_http, self.query_http, self.query_grpc,
                self.exporter, *(self.store if objstore else ())]


#: The synthetic targets of each cluster: as many as the backfilled history
#: has, spread over as many jobs, named as it names them.
APP_TARGETS = 20
APP_JOBS = 3


def app_target(t: int) -> tuple[str, str]:
    """(job, instance) of synthetic target ``t``, as :mod:`.history` labels it."""
    return f"app{t % APP_JOBS}", f"host{t}:9100"


@dataclass(frozen=True)
class PrometheusSpec:
    """One of the tutorial's Prometheus servers and its sidecar."""

    name: str  # prometheus0_eu1, as the tutorial's config files are named
    cluster: str
    replica: str
    index: int  # 0, 1, 2: which of the ports
    seed: int  # which synthetic history: the us1 pair scrapes the same targets

    def targets(self, ports: Ports, host: str) -> dict[str, list[str]]:
        """The scrape targets by job."""
        if self.cluster == "eu1":
            prometheus = [f"{host}:{ports.prometheus[0]}"]
            sidecars = [f"{host}:{ports.sidecar_http[0]}"]
        else:
            prometheus = [f"{host}:{p}" for p in ports.prometheus[1:]]
            sidecars = [f"{host}:{p}" for p in ports.sidecar_http[1:]]
        jobs = {"prometheus": prometheus, "sidecar": sidecars}
        for t in range(APP_TARGETS):
            job, instance = app_target(t)
            jobs.setdefault(job, []).append(instance)
        return jobs

    def config(self, ports: Ports, host: str) -> str:
        """The tutorial's configuration (step 2: with the sidecar scrape job),
        and the synthetic targets, each asked of the exporter by name."""
        jobs = self.targets(ports, host)
        exporter = f"{host}:{ports.exporter}"
        config = {
            "global": {
                "scrape_interval": "15s",
                "evaluation_interval": "15s",
                "external_labels": {"cluster": self.cluster, "replica": self.replica},
            },
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": jobs.pop("prometheus")}]},
                {"job_name": "sidecar", "static_configs": [{"targets": jobs.pop("sidecar")}]},
                *({
                    "job_name": job,
                    "params": {"fleet": [self.cluster]},
                    "static_configs": [{"targets": targets}],
                    "relabel_configs": [
                        {"source_labels": ["__address__"], "target_label": "__param_target"},
                        {"source_labels": ["__param_target"], "target_label": "instance"},
                        {"target_label": "__address__", "replacement": exporter},
                    ],
                } for job, targets in jobs.items()),
            ],
        }
        return yaml.safe_dump(config, sort_keys=False)


TOPOLOGY = (
    PrometheusSpec("prometheus0_eu1", "eu1", "0", 0, seed=1),
    PrometheusSpec("prometheus0_us1", "us1", "0", 1, seed=2),
    PrometheusSpec("prometheus1_us1", "us1", "1", 2, seed=2),
)
