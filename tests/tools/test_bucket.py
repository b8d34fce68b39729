"""``thanos_rs tools bucket ls|inspect`` on a bucket laid out in Thanos's
format: metas written here, and (``prometheus``) real blocks cut by promtool."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support.objstore import KINDS, SECRET_KEY, filesystem_config, new_bucket, upload_block
from support.prometheus import backfill
from thanos_rs.errors import BadDataError
from thanos_rs.objstore import Bucket
from thanos_rs.tools.bucket import parse_selector

A, B, C, P = "01HAAAAAAAAAAAAAAAAAAAAAAA", "01HBBBBBBBBBBBBBBBBBBBBBBB", "01HCCCCCCCCCCCCCCCCCCCCCCC", \
    "01HPPPPPPPPPPPPPPPPPPPPPPP"


def meta(ulid: str, min_time: int, hours: int, labels: dict, resolution: int = 0, level: int = 1,
         samples: int = 1440) -> dict:
    return {
        "ulid": ulid, "minTime": min_time, "maxTime": min_time + hours * 3_600_000,
        "stats": {"numSamples": samples, "numSeries": 3, "numChunks": 12},
        "compaction": {"level": level, "sources": [ulid]}, "version": 1,
        "thanos": {"labels": labels, "downsample": {"resolution": resolution}, "source": "sidecar"},
    }


def tool(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ="UTC", PYTHONPATH=os.pathsep.join(sys.path), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "thanos_rs", "tools", "bucket", *args], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def laid_out(tmp_path) -> str:
    """A bucket with two blocks, a downsampled one marked for deletion and a
    partial upload; returns its config."""
    config = filesystem_config(tmp_path / "bucket")
    bucket = Bucket.from_config(config)
    t0 = 1_700_000_000_000
    for m in (meta(A, t0, 2, {"cluster": "eu1", "replica": "a"}),
              meta(B, t0 - 7_200_000, 2, {"cluster": "us1", "replica": "a"}, samples=1_234_567),
              meta(C, t0 - 86_400_000, 24, {"cluster": "eu1", "replica": "a"}, resolution=300_000, level=3)):
        bucket.upload(f"{m['ulid']}/index", b"i")
        bucket.upload(f"{m['ulid']}/meta.json", json.dumps(m).encode())
    bucket.upload(f"{C}/deletion-mark.json", b'{"id": "%s", "deletion_time": 1700000000, "version": 1}' % C.encode())
    bucket.upload(f"{P}/index", b"half an upload")
    return config


def test_ls(laid_out):
    run = tool("ls", "--objstore.config", laid_out)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"{A}\n{B}\n{C}\n"
    assert tool("ls", "--objstore.config", laid_out, "--exclude-delete").stdout == f"{A}\n{B}\n"


def test_ls_wide_and_json(laid_out):
    wide = tool("ls", "--objstore.config", laid_out, "-o", "wide").stdout.splitlines()
    assert wide[0] == (f"{A} -- 2023-11-14T22:13:20Z - 2023-11-15T00:13:20Z Diff: 2h0m0s, Compaction: 1, "
                       "Downsample: 0, Source: sidecar")
    assert wide[2].endswith("Diff: 24h0m0s, Compaction: 3, Downsample: 300000, Source: sidecar")
    out = tool("ls", "--objstore.config", laid_out, "--output=json").stdout
    # One tab-indented document per block, as Go's json.Encoder writes them.
    docs = out.split("}\n{")
    assert len(docs) == 3 and out.startswith('{\n\t"ulid": ')
    assert json.loads(docs[0] + "}")["thanos"]["labels"] == {"cluster": "eu1", "replica": "a"}
    bad = tool("ls", "--objstore.config", laid_out, "-o", "{{.ULID}}")
    assert bad.returncode == 2 and "not supported" in bad.stderr


HEADER = ("|            ULID            |         FROM         |        UNTIL         |  RANGE  | UNTIL-DOWN | "
          "#SERIES | #SAMPLES  | #CHUNKS | COMP-LEVEL | COMP-FAILED |        LABELS         | RESOLUTION "
          "| SOURCE  |")


def test_inspect_table(laid_out):
    run = tool("inspect", "--objstore.config", laid_out)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "|" + "|".join("-" * (len(c)) for c in HEADER.split("|")[1:-1]) + "|"
    # Sorted by FROM, then UNTIL: the oldest block first.
    assert lines[2:] == [
        f"| {C} | 2023-11-13T22:13:20Z | 2023-11-14T22:13:20Z | 24h0m0s | 216h0m0s   | 3       | 1,440     "
        "| 12      | 3          | false       | cluster=eu1,replica=a | 5m0s       | sidecar |",
        f"| {B} | 2023-11-14T20:13:20Z | 2023-11-14T22:13:20Z | 2h0m0s  | 38h0m0s    | 3       | 1,234,567 "
        "| 12      | 1          | false       | cluster=us1,replica=a | 0s         | sidecar |",
        f"| {A} | 2023-11-14T22:13:20Z | 2023-11-15T00:13:20Z | 2h0m0s  | 38h0m0s    | 3       | 1,440     "
        "| 12      | 1          | false       | cluster=eu1,replica=a | 0s         | sidecar |",
    ]


def test_inspect_selector_sort_and_csv(laid_out):
    run = tool("inspect", "--objstore.config", laid_out, "-l", 'cluster="eu1"', "--sort-by", "#SAMPLES",
               "--sort-by", "RANGE", "--output", "csv")
    assert run.returncode == 0, run.stderr
    rows = run.stdout.splitlines()
    assert rows[0] == "ULID,FROM,UNTIL,RANGE,UNTIL-DOWN,#SERIES,#SAMPLES,#CHUNKS,COMP-LEVEL,COMP-FAILED,LABELS," \
                      "RESOLUTION,SOURCE"
    # Equal sample counts, so the range decides: 2h before 24h.
    assert [r.split(",")[0] for r in rows[1:]] == [A, C]
    unmatched = tool("inspect", "--objstore.config", laid_out, "-l", 'cluster="nowhere"', "--output", "tsv")
    assert unmatched.stdout.count("\n") == 1


def test_selector_parsing():
    assert parse_selector(['cluster="eu1"', "replica=`a`", 'x="q\\"uote"']) == {
        "cluster": "eu1", "replica": "a", "x": 'q"uote'}
    for bad in ("cluster", "cluster=eu1", "1x=\"a\""):
        with pytest.raises(BadDataError):
            parse_selector([bad])


def test_config_flags_and_errors(laid_out, tmp_path):
    (tmp_path / "bucket.yml").write_text(laid_out)
    assert tool("ls", "--objstore.config-file", str(tmp_path / "bucket.yml")).stdout == f"{A}\n{B}\n{C}\n"
    none = tool("ls")
    assert none.returncode == 1
    assert "flag objstore.config-file or objstore.config is required" in none.stderr
    both = tool("ls", "--objstore.config-file", str(tmp_path / "bucket.yml"), "--objstore.config", laid_out)
    assert both.returncode == 1 and "both objstore.config-file and objstore.config flags set" in both.stderr
    missing = tool("ls", "--objstore.config", "type: S3\nconfig:\n  bucket: b\n")
    assert missing.returncode == 1 and "config.endpoint: missing" in missing.stderr


def test_secrets_stay_out_of_help_and_errors():
    assert SECRET_KEY not in tool("ls", "--help").stdout
    config = f"type: S3\nconfig:\n  bucket: b\n  endpoint: 127.0.0.1:1\n  insecure: true\n  max_retries: 0\n" \
             f"  access_key: a\n  secret_key: {SECRET_KEY}\n"
    run = tool("inspect", "--objstore.config", config)
    assert run.returncode == 1 and "error" in run.stderr
    assert SECRET_KEY not in run.stderr + run.stdout


@pytest.mark.prometheus
@pytest.mark.parametrize("kind", KINDS)
def test_real_blocks(kind, tmp_path, request, prometheus_binaries):
    # Three 2h blocks of two series, one sample a minute.
    start = 1_700_000_000 - 1_700_000_000 % 7200
    lines = ["# TYPE up gauge"]
    for job in ("a", "b"):
        lines += [f'up{{job="{job}"}} 1 {start + 60 * i}' for i in range(3 * 120)]
    backfill("\n".join(lines) + "\n# EOF\n", tmp_path / "data")
    blocks = sorted(p for p in (tmp_path / "data").iterdir() if p.is_dir())
    assert len(blocks) == 3
    config = new_bucket(request, tmp_path / "bucket", kind)
    bucket = Bucket.from_config(config)
    for block in blocks:
        upload_block(bucket, block, {"cluster": "eu1", "replica": "a"})
    # The last block marked for deletion; a fourth directory with no meta.json.
    bucket.upload(f"{blocks[2].name}/deletion-mark.json", b'{"deletion_time": 1700000000, "version": 1}')
    bucket.upload_file(f"{P}/index", blocks[0] / "index")

    ids = [b.name for b in blocks]
    assert tool("ls", "--objstore.config", config).stdout.split() == ids
    assert tool("ls", "--objstore.config", config, "--exclude-delete").stdout.split() == ids[:2]
    run = tool("inspect", "--objstore.config", config)
    assert run.returncode == 0, run.stderr
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in run.stdout.splitlines()[2:]]
    assert [r[0] for r in rows] == ids
    for row, block in zip(rows, blocks):
        m = json.loads((block / "meta.json").read_text())
        assert row[3] == "2h0m0s" or row[3].startswith("1h59m")
        assert (row[5], row[6], row[7]) == (str(m["stats"]["numSeries"]), f"{m['stats']['numSamples']:,}",
                                            str(m["stats"]["numChunks"]))
        assert row[5] == "2" and row[8:] == ["1", "false", "cluster=eu1,replica=a", "0s", "sidecar"]
    assert sum(int(r[6].replace(",", "")) for r in rows) == 2 * 3 * 120


def test_timeout_ends_the_command(tmp_path):
    # A server that accepts the connection and never answers.
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        config = (f"type: S3\nconfig:\n  bucket: b\n  endpoint: 127.0.0.1:{port}\n  insecure: true\n"
                  "  max_retries: 0\n  access_key: a\n  secret_key: s\n")
        run = tool("ls", "--objstore.config", config, "--timeout", "1s")
    assert run.returncode == 1 and "context deadline exceeded" in run.stderr
