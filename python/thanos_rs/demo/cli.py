"""``thanos_rs demo``: the Thanos global-view tutorial topology on this machine."""

from __future__ import annotations

import argparse

from thanos_rs import flags


def _ports(count: int):
    def parse(text: str) -> tuple[int, ...]:
        try:
            ports = tuple(int(p) for p in text.split(","))
        except ValueError:
            ports = ()
        if len(ports) != count or not all(0 < p < 65536 for p in ports):
            raise argparse.ArgumentTypeError(f"want {count} comma-separated port numbers, got {text!r}")
        return ports

    return parse


def _port(text: str) -> int:
    return _ports(1)(text)[0]


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "demo",
        help="Run the Thanos global-view tutorial: 3 Prometheus, 3 sidecars, 1 querier.",
        description="Starts three Prometheus servers (eu1, and the us1 HA pair), a sidecar for each "
        "and a querier deduplicating on the replica label, as in the Thanos global-view tutorial, "
        "and an exporter of synthetic targets for the Prometheus servers to scrape; "
        "runs until Ctrl-C, then stops everything it started.",
    )
    p.add_argument("--workdir", default="", help="Folder for data, configs and logs, kept afterwards "
                   "(default: a temporary folder, removed afterwards).")
    p.add_argument("--history", type=flags.duration, default=0.0,
                   help="Backfill this much synthetic history (counters, gauges, histograms; e.g. 6h) "
                   "so that graphs show something at once; the exporter carries it on live. Default: none.")
    p.add_argument("--host", default="127.0.0.1", help="Address every component listens on.")
    p.add_argument("--ports.prometheus", dest="ports_prometheus", type=_ports(3), default=(9090, 9091, 9092),
                   help="Ports of Prometheus eu1, us1 replica 0 and us1 replica 1.")
    p.add_argument("--ports.sidecar-grpc", dest="ports_sidecar_grpc", type=_ports(3), default=(19190, 19191, 19192),
                   help="gRPC (StoreAPI) ports of the three sidecars.")
    p.add_argument("--ports.sidecar-http", dest="ports_sidecar_http", type=_ports(3), default=(19090, 19091, 19092),
                   help="HTTP ports of the three sidecars.")
    p.add_argument("--ports.query-http", dest="ports_query_http", type=_port, default=29090,
                   help="HTTP port of the querier (UI and API).")
    p.add_argument("--ports.query-grpc", dest="ports_query_grpc", type=_port, default=10901,
                   help="gRPC port of the querier.")
    p.add_argument("--ports.exporter", dest="ports_exporter", type=_port, default=19100,
                   help="Port of the exporter of the synthetic targets, which the Prometheus servers scrape.")
    p.add_argument("--objstore", action="store_true",
                   help="Add long-term storage, Thanos's next tutorial: a bucket in a local folder, a shipper in "
                   "each sidecar, and a store gateway the querier reads too. Prometheus cuts 5-minute blocks "
                   "instead of 2-hour ones, so that uploads show within minutes.")
    p.add_argument("--ports.store", dest="ports_store", type=_ports(2), default=(19290, 19291),
                   help="gRPC and HTTP ports of the store gateway (with --objstore).")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from thanos_rs.demo.app import run as run_demo

    return run_demo(args)
