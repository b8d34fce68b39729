"""Soak of the sidecar's direct read path (``--tsdb.path``), on demand:

    python scripts/soak_tsdb.py --minutes 10

A real Prometheus 2.42 scrapes itself every second with 2-minute blocks (the
hidden ``--storage.tsdb.min-block-duration``/``max-block-duration`` flags) and
a 4-minute retention, so that head compactions, WAL truncations and
checkpoints, and block deletions happen while queries run. Two sidecars sit
beside it, one per read path; random selections over the last minutes are
asked of both and must give the same series, samples and label values. The
newest 10 s are left out: the two reads are not at the same instant. Exits 1
on any difference or error.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.components import sidecar  # noqa: E402
from support.prometheus import PrometheusServer  # noqa: E402
from support.storeclient import EQ, NEQ, RE, StoreClient, by_bits  # noqa: E402

SHORT_BLOCKS = ("--storage.tsdb.min-block-duration=2m", "--storage.tsdb.max-block-duration=2m")
#: Selections start at most this long ago: older blocks may be deleted by
#: retention between the two reads.
WINDOW_MS = 3 * 60_000
SETTLED_MS = 10_000


def random_case(rnd: random.Random, names: list[str], now_ms: int):
    name = rnd.choice(names)
    matchers = rnd.choice([
        [(EQ, "__name__", name)],
        [(RE, "__name__", "prometheus_tsdb_.+")],
        [(RE, "__name__", "go_.+"), (NEQ, "job", "")],
        [(RE, "__name__", ".+"), (EQ, "job", "soak")],
    ])
    end = now_ms - SETTLED_MS - rnd.randrange(0, 60_000)
    start = end - rnd.randrange(1_000, WINDOW_MS - 70_000)
    return matchers, start, end


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10)
    args = p.parse_args(argv)
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="thanos-rs-soak-") as work_dir:
        work = Path(work_dir)
        prom = PrometheusServer(work, external_labels={"cluster": "soak", "replica": "0"},
                                extra_args=SHORT_BLOCKS, retention="4m")
        prom.scrape_configs = [{"job_name": "soak", "scrape_interval": "1s",
                                "static_configs": [{"targets": [prom.url.removeprefix("http://")]}]}]
        prom.write_config()
        with prom, sidecar(work, prom.url) as remote_side, \
                sidecar(work, prom.url, f"--tsdb.path={prom.data}") as direct_side:
            remote, direct = StoreClient(remote_side.grpc_address), StoreClient(direct_side.grpc_address)
            deadline = time.monotonic() + args.minutes * 60
            cases = differences = errors = 0
            blocks_seen: set[str] = set()
            time.sleep(5)
            while time.monotonic() < deadline:
                now_ms = int(time.time() * 1000)
                names = prom.api("/api/v1/label/__name__/values")
                matchers, start, end = random_case(rnd, names, now_ms)
                try:
                    ours = by_bits(direct.samples(matchers, start, end))
                    theirs = by_bits(remote.samples(matchers, start, end))
                    label = rnd.choice(["__name__", "job", "instance"])
                    same = ours == theirs and \
                        direct.label_values(label, matchers, start, end) == remote.label_values(label, matchers, start, end)
                except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                    errors += 1
                    print(f"error: {matchers} [{start}, {end}]: {e!r}", flush=True)
                    continue
                cases += 1
                if not same:
                    differences += 1
                    print(f"difference: {matchers} [{start}, {end}]: {len(ours)} vs {len(theirs)} series", flush=True)
                    for k in sorted(set(ours) | set(theirs)):
                        a, b = ours.get(k, []), theirs.get(k, [])
                        if a != b:
                            only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
                            print(f"  {dict(k).get('__name__')}: {len(a)} vs {len(b)} samples; direct only "
                                  f"{only_a[:3]}, remote read only {only_b[:3]}", flush=True)
                            break
                blocks_seen |= {b.name for b in prom.data.iterdir() if (b / "meta.json").exists()}
                if cases % 50 == 0:
                    checkpoints = [c.name for c in (prom.data / "wal").iterdir() if c.name.startswith("checkpoint")]
                    print(f"{cases} cases, {differences} differences, {errors} errors; blocks seen "
                          f"{len(blocks_seen)}, now {len([b for b in prom.data.iterdir() if b.name in blocks_seen])}; "
                          f"checkpoints {checkpoints}", flush=True)
            print(f"done: {cases} cases, {differences} differences, {errors} errors, {len(blocks_seen)} blocks seen")
            return 1 if differences or errors or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
