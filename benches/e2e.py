"""End-to-end benchmark: the tutorial topology against one Prometheus holding
the same data, in the same run.

    python benches/e2e.py                      # 2,000 series per Prometheus over 6 h (a few minutes)
    python benches/e2e.py --series 10000 --hours 6
    python benches/e2e.py --large              # 10,000 series per Prometheus over 24 h
    python benches/e2e.py --json results.json  # also write the figures (for benches/gate.py)

It writes two clusters' synthetic history (:mod:`thanos_rs.demo.history`),
backfills it with ``promtool tsdb create-blocks-from openmetrics`` into three
real Prometheus 2.42 servers (eu1, and the us1 HA pair holding the same us1
data) with their external labels, puts our sidecar beside each and our
querier (deduplicating on ``replica``) over them; and a reference Prometheus
with both clusters' data, ``cluster`` a plain label. Then it runs heavy
queries on both in alternation (one warm-up, then ``--rounds``), checks the
answers are the same, and prints the median latency of each, the ratio
ours/Prometheus per query and their geometric mean, and the peak memory of the
querier and the sidecars next to the compressed chunk bytes the queries read.
"""

from __future__ import annotations

import argparse
import json
import math
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
from support.prometheus import PrometheusServer, backfill_file, require_binaries
from support.storeclient import RE, StoreClient
from thanos_rs.demo.history import SERIES_PER_TARGET, Fleet, write

START = 1_700_000_000

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
    blocks = {cluster: once(work / "blocks" / cluster, lambda out, c=cluster: backfill_file(files[c], out))
              for cluster in files}
    blocks["all"] = once(work / "blocks" / "all", lambda out: [
        shutil.copytree(blocks[c], out, dirs_exist_ok=True) for c in files])

    with ExitStack() as stack:
        def prometheus(name: str, data: Path, labels: dict) -> PrometheusServer:
            return stack.enter_context(PrometheusServer(work, name, external_labels=labels, data_from=data))

        say("starting Prometheus x4, sidecars x3, querier")
        replicas = [
            prometheus("eu1", blocks["eu1"], {"cluster": "eu1", "replica": "0"}),
            prometheus("us1-0", blocks["us1"], {"cluster": "us1", "replica": "0"}),
            prometheus("us1-1", blocks["us1"], {"cluster": "us1", "replica": "1"}),
        ]
        reference = prometheus("reference", blocks["all"], {})
        sidecars = [stack.enter_context(sidecar(work, p.url)) for p in replicas]
        q = stack.enter_context(querier(work, [s.grpc_address for s in sidecars]))

        step = max(15, math.ceil(args.hours * 3600 / 240 / 15) * 15)
        results = []
        baseline = {c: peak_rss_mib(c.proc.pid)[0] for c in [q, *sidecars]}
        for name, kind, expr in QUERIES:
            if kind == "range":
                path, params = "/api/v1/query_range", {"query": expr, "start": START + 600, "end": end, "step": step}
            else:
                path, params = "/api/v1/query", {"query": expr, "time": end}
            # Warm-up, and the answers must agree.
            _, ours_body = fetch(q.url, path, params)
            _, theirs_body = fetch(reference.url, path, params)
            ours_json, theirs_json = json.loads(ours_body), json.loads(theirs_body)
            diff = differences(ours_json["data"], theirs_json["data"])
            if diff:
                raise SystemExit(f"{name}: answers differ: {diff}")
            ours_t, theirs_t = [], []
            for _ in range(args.rounds):
                ours_t.append(fetch(q.url, path, params)[0])
                theirs_t.append(fetch(reference.url, path, params)[0])
            ours, theirs = statistics.median(ours_t), statistics.median(theirs_t)
            results.append({"query": name, "ours_s": ours, "prometheus_s": theirs, "ratio": ours / theirs,
                            "series": len(ours_json["data"]["result"]), "bytes": len(ours_body)})
            say(f"  {name:20} ours {ours * 1e3:9.1f} ms  Prometheus {theirs * 1e3:9.1f} ms  ratio {ours / theirs:6.3f}")

        memory = {
            "querier": peak_rss_mib(q.proc.pid),
            "sidecars": [peak_rss_mib(s.proc.pid) for s in sidecars],
        }
        touched = chunk_bytes(sidecars, START * 1000, end * 1000, ".+")
        q_base = baseline[q]
        report = {
            "series_per_prometheus": targets * SERIES_PER_TARGET,
            "hours": args.hours,
            "rounds": args.rounds,
            "queries": results,
            "geomean_ratio": math.exp(sum(math.log(r["ratio"]) for r in results) / len(results)),
            "querier_rss_mib": {"start": q_base, "now": memory["querier"][0], "peak": memory["querier"][1]},
            "sidecar_peak_rss_mib": [m[1] for m in memory["sidecars"]],
            "chunk_mib_all_series": touched / 2**20,
        }
        return report


def print_report(r: dict) -> None:
    print(f"\n{r['series_per_prometheus']} series per Prometheus, {r['hours']:g} h, median of {r['rounds']} rounds")
    print(f"{'query':22} {'ours ms':>10} {'Prom ms':>10} {'ratio':>7}")
    for q in r["queries"]:
        print(f"{q['query']:22} {q['ours_s'] * 1e3:10.1f} {q['prometheus_s'] * 1e3:10.1f} {q['ratio']:7.3f}")
    print(f"geometric mean of ratios: {r['geomean_ratio']:.3f}")
    m = r["querier_rss_mib"]
    print(f"querier RSS: {m['start']:.0f} MiB at start, peak {m['peak']:.0f} MiB "
          f"(+{m['peak'] - m['start']:.0f}); chunks of all series: {r['chunk_mib_all_series']:.1f} MiB x 3 stores")
    print(f"sidecars peak RSS: {', '.join(f'{x:.0f}' for x in r['sidecar_peak_rss_mib'])} MiB")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--series", type=int, default=2000, help="series per Prometheus (default 2000)")
    p.add_argument("--hours", type=float, default=6, help="hours of history (default 6)")
    p.add_argument("--large", action="store_true", help="10,000 series per Prometheus over 24 h")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--workdir", default="", help="keep data here (and reuse it on the next run)")
    p.add_argument("--json", default="", help="write the results to this file")
    args = p.parse_args(argv)
    if args.large:
        args.series, args.hours = 10000, 24
    report = run(args)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
