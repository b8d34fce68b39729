"""End-to-end benchmark: the tutorial topology against one Prometheus holding
the same data, in the same run.

    python benches/e2e.py                      # 2,000 series per Prometheus over 6 h (a few minutes)
    python benches/e2e.py --series 10000 --hours 6
    python benches/e2e.py --large              # 10,000 series per Prometheus over 24 h
    python benches/e2e.py --json results.json  # also write the figures (for benches/gate.py)
    python benches/e2e.py --read-path tsdb-path  # only the sidecars that read the data directories
    python benches/e2e.py --head --hours 2     # fed by remote write: every sample in the heads
    python benches/e2e.py --read-path store-gateway  # the blocks in a bucket, read by our store gateway

It writes two clusters' synthetic history (:mod:`thanos_rs.demo.history`),
backfills it with ``promtool tsdb create-blocks-from openmetrics`` into three
real Prometheus 2.42 servers (eu1, and the us1 HA pair holding the same us1
data) with their external labels, puts our sidecars beside each and a querier
of ours (deduplicating on ``replica``) over them; and a reference Prometheus
with both clusters' data, ``cluster`` a plain label. Each read path of the
sidecar gets its own three sidecars and querier: ``remote-read`` (Prometheus's
remote-read API) and ``tsdb-path`` (the data directory, ``--tsdb.path``);
``store-gateway`` puts the three servers' blocks in a filesystem bucket (with
our shipper, each with its external labels) and a querier over one store
gateway of ours, whose peak memory shows beside the sidecars'. Then
it runs heavy queries on each querier and the reference in alternation (one
warm-up, then ``--rounds``), checks the answers are the same, and prints the
median latency of each, the ratio ours/Prometheus per query and read path and
their geometric means, the peak memory of the queriers and the sidecars next
to the compressed chunk bytes the queries read, and how many remote reads the
Prometheus servers answered during the ``tsdb-path`` queries (none expected).
With ``--head``, every Prometheus (the reference too) gets the history by
remote write instead: nothing is in blocks, everything in the WAL and the
head (keep ``--hours`` at 2 or less, or Prometheus cuts a block).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.compare import differences
from support.components import Component, querier, sidecar
from support import remote_write
from support.prometheus import PrometheusServer, backfill_file, require_binaries
from support.storeclient import RE, StoreClient
from prometheus_client import CollectorRegistry
from thanos_rs.demo.history import SERIES_PER_TARGET, Fleet, write
from thanos_rs.objstore import Bucket
from thanos_rs.shipper import Shipper

START = 1_700_000_000
#: The sidecar's read paths (Prometheus's remote-read API, its data
#: directory), and the blocks in a bucket read by the store gateway.
READ_PATHS = ("remote-read", "tsdb-path", "store-gateway")

#: (name, kind, query): range queries over the whole history, instant at its end.
QUERIES = [
    ("sum_by_rate", "range", "sum by (job) (rate(http_requests_total[5m]))"),
    ("histogram_quantile", "range",
     "histogram_quantile(0.9, sum by (le, cluster) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("regex_everything", "range", 'count by (cluster) ({__name__=~".+"})'),
    ("instant_all_series", "instant", '{__name__=~".+"}'),
]


def once(out: Path, fill) -> Path:
    """``out``, made by ``fill(path)`` unless an earlier run finished it."""
    if not out.exists():
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        fill(partial)
        partial.rename(out)
    return out


def bucket_yaml(bucket: Path) -> str:
    return f"type: FILESYSTEM\nconfig:\n  directory: {bucket}\n"


def ship(blocks: Path, labels: dict, bucket: Path, scratch: Path) -> None:
    """Uploads a copy of ``blocks`` with our shipper. The copy's blocks get
    ULIDs of their own, as another Prometheus's blocks would have: the HA
    pair's replicas hold the same backfilled blocks here."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for block in blocks.iterdir():
        if not (block / "meta.json").exists():
            continue
        ulid = block.name[:-8] + "".join(random.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(8))
        shutil.copytree(block, scratch / ulid)
        meta = json.loads((scratch / ulid / "meta.json").read_text())
        meta["ulid"] = ulid
        (scratch / ulid / "meta.json").write_text(json.dumps(meta))
    Shipper(Bucket.from_config(bucket_yaml(bucket)), scratch, lambda: dict(labels), CollectorRegistry()).sync()
    shutil.rmtree(scratch)


def openmetrics_series(path: Path) -> dict:
    """The samples of each series of one of :mod:`thanos_rs.demo.history`'s
    files: ``{sorted label pairs: [(t ms, value)]}``."""
    series: dict = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            head, value, ts = line.rsplit(" ", 2)
            name, _, rest = head.partition("{")
            pairs = [p.split("=", 1) for p in rest.rstrip("}").split(",") if p]
            key = tuple(sorted([("__name__", name), *((k, v.strip('"')) for k, v in pairs)]))
            series.setdefault(key, []).append((round(float(ts) * 1000), float(value)))
    return series


def fill_by_remote_write(prom: PrometheusServer, files: list[Path]) -> None:
    series = {}
    for f in files:
        series.update(openmetrics_series(f))
    prom.remote_write(remote_write.time_sliced(series, slice_ms=300_000))


def fetch(url: str, path: str, params: dict) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(params)}", timeout=600) as r:
        body = r.read()
    return time.perf_counter() - t0, body


def peak_rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def bucket_bytes(bucket: Path) -> dict[str, float]:
    """MiB of the bucket's indexes and chunk segments: what a store gateway
    reads from when every series is queried."""
    index = sum(p.stat().st_size for p in bucket.glob("*/index"))
    chunks = sum(p.stat().st_size for p in bucket.glob("*/chunks/*"))
    return {"index_mib": index / 2**20, "chunks_mib": chunks / 2**20}


def chunk_bytes(stores: list[Component], mint: int, maxt: int, name_regex: str) -> int:
    """Compressed chunk bytes the stores hold for series named by ``name_regex``."""
    total = 0
    for s in stores:
        client = StoreClient(s.grpc_address)
        try:
            for series in client.series([(RE, "__name__", name_regex)], mint, maxt, response_batch_size=256):
                total += sum(len(c.raw.data) for c in series.chunks)
        finally:
            client.close()
    return total


def run(args: argparse.Namespace) -> dict:
    require_binaries()
    if not args.workdir:
        # Gigabytes of OpenMetrics text and blocks: gone when the run ends.
        with tempfile.TemporaryDirectory(prefix="thanos-rs-e2e-") as work:
            return measure(args, Path(work))
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    return measure(args, work)


def measure(args: argparse.Namespace, work: Path) -> dict:
    targets = max(1, args.series // SERIES_PER_TARGET)
    end = int(START + args.hours * 3600)
    say = lambda *a: print(*a, file=sys.stderr, flush=True)

    say(f"data: {targets * SERIES_PER_TARGET} series per Prometheus over {args.hours:g} h in {work}")
    files = {}
    for seed, cluster in ((1, "eu1"), (2, "us1")):
        fleet = Fleet(targets=targets, start=START, hours=args.hours, seed=seed, labels=(("cluster", cluster),))
        files[cluster] = once(work / f"{cluster}.om", lambda out, f=fleet: write(f, out))

    # promtool needs minutes per gigabyte: each cluster is backfilled once and
    # its blocks copied into every Prometheus that holds it.
    blocks: dict = {}
    if not args.head:
        blocks = {cluster: once(work / "blocks" / cluster, lambda out, c=cluster: backfill_file(files[c], out))
                  for cluster in files}
        blocks["all"] = once(work / "blocks" / "all", lambda out: [
            shutil.copytree(blocks[c], out, dirs_exist_ok=True) for c in files])

    with ExitStack() as stack:
        def prometheus(name: str, data: Path, labels: dict) -> PrometheusServer:
            if not args.head:
                return stack.enter_context(PrometheusServer(work, name, external_labels=labels, data_from=data))
            # A fresh head each run: remote write cannot add to what an earlier run left.
            shutil.rmtree(work / f"head-{name}", ignore_errors=True)
            prom = stack.enter_context(PrometheusServer(work, f"head-{name}", external_labels=labels,
                                                        remote_write_receiver=True))
            fill_by_remote_write(prom, [files[c] for c in (["eu1", "us1"] if name == "reference" else
                                                           [name.split("-")[0]])])
            return prom

        say(f"starting Prometheus x4, sidecars x3 and a querier per read path ({', '.join(args.read_path)})")
        replicas = [
            prometheus("eu1", blocks.get("eu1"), {"cluster": "eu1", "replica": "0"}),
            prometheus("us1-0", blocks.get("us1"), {"cluster": "us1", "replica": "0"}),
            prometheus("us1-1", blocks.get("us1"), {"cluster": "us1", "replica": "1"}),
        ]
        reference = prometheus("reference", blocks.get("all"), {})
        paths = {}
        for path in args.read_path:
            if path == "store-gateway":
                bucket = once(work / "bucket", lambda out: [
                    ship(blocks[p.dir.name.split("-")[0]], p.external_labels, out, work / "shipping") for p in replicas])
                store = stack.enter_context(Component(
                    "store", [f"--objstore.config={bucket_yaml(bucket)}", f"--data-dir={work / 'store-cache'}"], work))
                paths[path] = (stack.enter_context(querier(work, [store.grpc_address])), [store])
                continue
            flags = lambda p: [f"--tsdb.path={p.data}"] if path == "tsdb-path" else []  # noqa: B023 (used at once)
            sides = [stack.enter_context(sidecar(work, p.url, *flags(p))) for p in replicas]
            paths[path] = (stack.enter_context(querier(work, [s.grpc_address for s in sides])), sides)

        step = max(15, math.ceil(args.hours * 3600 / 240 / 15) * 15)
        results = []
        baseline = {path: peak_rss_mib(q.proc.pid)[0] for path, (q, _) in paths.items()}
        remote_reads = dict.fromkeys(paths, 0.0)
        for name, kind, expr in QUERIES:
            if kind == "range":
                url_path, params = "/api/v1/query_range", {"query": expr, "start": START + 600, "end": end,
                                                           "step": step}
            else:
                url_path, params = "/api/v1/query", {"query": expr, "time": end}
            # Warm-up, and the answers must agree.
            _, theirs_body = fetch(reference.url, url_path, params)
            theirs_json = json.loads(theirs_body)
            times = {path: [] for path in paths}
            sizes = {}
            for path, (q, _) in paths.items():
                _, ours_body = fetch(q.url, url_path, params)
                ours_json = json.loads(ours_body)
                diff = differences(ours_json["data"], theirs_json["data"])
                if diff:
                    raise SystemExit(f"{name} ({path}): answers differ: {diff}")
                sizes[path] = (len(ours_json["data"]["result"]), len(ours_body))
            theirs_t = []
            for _ in range(args.rounds):
                for path, (q, _) in paths.items():
                    before = sum(p.requests_served("/api/v1/read") for p in replicas)
                    times[path].append(fetch(q.url, url_path, params)[0])
                    remote_reads[path] += sum(p.requests_served("/api/v1/read") for p in replicas) - before
                theirs_t.append(fetch(reference.url, url_path, params)[0])
            theirs = statistics.median(theirs_t)
            for path in paths:
                ours = statistics.median(times[path])
                results.append({"query": name, "read_path": path, "ours_s": ours, "prometheus_s": theirs,
                                "ratio": ours / theirs, "series": sizes[path][0], "bytes": sizes[path][1]})
                say(f"  {name:20} {path:12} ours {ours * 1e3:9.1f} ms  Prometheus {theirs * 1e3:9.1f} ms  "
                    f"ratio {ours / theirs:6.3f}")

        gateway = None
        if "store-gateway" in paths:
            store = paths["store-gateway"][1][0]
            cached = sum(v for (n, _), v in store.metrics().items() if n == "thanos_store_index_cache_total_size_bytes")
            gateway = {"peak_rss_mib": peak_rss_mib(store.proc.pid)[1], "index_cache_mib": cached / 2**20,
                       **bucket_bytes(work / "bucket")}
        first_sides = next(iter(paths.values()))[1]
        touched = chunk_bytes(first_sides, START * 1000, end * 1000, ".+")
        report = {
            "series_per_prometheus": targets * SERIES_PER_TARGET,
            "storage": "head" if args.head else "blocks",
            "hours": args.hours,
            "rounds": args.rounds,
            "queries": results,
            "geomean_ratio": {
                path: math.exp(statistics.mean(math.log(r["ratio"]) for r in results if r["read_path"] == path))
                for path in paths
            },
            "querier_rss_mib": {
                path: {"start": baseline[path], "now": peak_rss_mib(q.proc.pid)[0], "peak": peak_rss_mib(q.proc.pid)[1]}
                for path, (q, _) in paths.items()
            },
            "sidecar_peak_rss_mib": {path: [peak_rss_mib(s.proc.pid)[1] for s in sides]
                                     for path, (_, sides) in paths.items()},
            "remote_reads_during_queries": remote_reads,
            "chunk_mib_all_series": touched / 2**20,
            "store_gateway": gateway,
        }
        return report


def print_report(r: dict) -> None:
    print(f"\n{r['series_per_prometheus']} series per Prometheus, {r['hours']:g} h in {r['storage']}, "
          f"median of {r['rounds']} rounds")
    print(f"{'query':22} {'read path':12} {'ours ms':>10} {'Prom ms':>10} {'ratio':>7}")
    for q in r["queries"]:
        print(f"{q['query']:22} {q['read_path']:12} {q['ours_s'] * 1e3:10.1f} {q['prometheus_s'] * 1e3:10.1f} "
              f"{q['ratio']:7.3f}")
    for path, geomean in r["geomean_ratio"].items():
        m = r["querier_rss_mib"][path]
        print(f"{path}: geometric mean of ratios {geomean:.3f}; querier RSS {m['start']:.0f} MiB at start, "
              f"peak {m['peak']:.0f} MiB (+{m['peak'] - m['start']:.0f}); stores peak RSS "
              f"{', '.join(f'{x:.0f}' for x in r['sidecar_peak_rss_mib'][path])} MiB; "
              f"remote reads during its queries: {r['remote_reads_during_queries'][path]:.0f}")
    print(f"chunks of all series: {r['chunk_mib_all_series']:.1f} MiB x 3 stores")
    if g := r.get("store_gateway"):
        print(f"store gateway: peak RSS {g['peak_rss_mib']:.0f} MiB; its bucket holds {g['index_mib']:.1f} MiB of "
              f"indexes and {g['chunks_mib']:.1f} MiB of chunks; index cache {g['index_cache_mib']:.1f} MiB at the end")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--series", type=int, default=2000, help="series per Prometheus (default 2000)")
    p.add_argument("--hours", type=float, default=6, help="hours of history (default 6)")
    p.add_argument("--large", action="store_true", help="10,000 series per Prometheus over 24 h")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--head", action="store_true", help="fill Prometheus by remote write: all data in the head")
    p.add_argument("--read-path", action="append", choices=READ_PATHS,
                   help="the read path to measure; repeatable (default: all; store-gateway needs blocks, not --head)")
    p.add_argument("--workdir", default="", help="keep data here (and reuse it on the next run)")
    p.add_argument("--json", default="", help="write the results to this file")
    args = p.parse_args(argv)
    args.read_path = args.read_path or [p for p in READ_PATHS if not (args.head and p == "store-gateway")]
    if args.head and "store-gateway" in args.read_path:
        p.error("--read-path store-gateway reads blocks: it cannot go with --head")
    if args.large:
        args.series, args.hours = 10000, 24
    report = run(args)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
