"""``thanos_rs compact``'s flags: what Thanos refuses before it starts is
refused the same way, with its words, and nothing is touched."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support.objstore import filesystem_config


def run(tmp_path, *flags: str) -> subprocess.CompletedProcess:
    config = filesystem_config(tmp_path / "bucket")
    return subprocess.run([sys.executable, "-m", "thanos_rs", "compact", f"--objstore.config={config}",
                           f"--data-dir={tmp_path / 'data'}", "--http-address=127.0.0.1:0", *flags],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("flags, message", [
    (["--deduplication.func=penalty"], "penalty based deduplication needs at least one replica label specified"),
    (["--retention.resolution-raw=1d"], "raw resolution must be higher than the minimum block size after which 5m "
                                        "resolution downsampling will occur (40 hours)"),
    (["--retention.resolution-5m=1w"], "5m resolution retention must be higher than the minimum block size after "
                                       "which 1h resolution downsampling will occur (10 days)"),
])
def test_flags_thanos_refuses_are_refused(tmp_path, flags, message):
    out = run(tmp_path, *flags)
    assert out.returncode == 1 and message in out.stderr, out.stderr
    assert not (tmp_path / "data").exists()


def test_without_downsampling_a_short_raw_retention_is_allowed(tmp_path):
    out = run(tmp_path, "--retention.resolution-raw=1d", "--downsampling.disable")
    assert out.returncode == 0, out.stderr
    assert "downsampling was explicitly disabled" in out.stderr


@pytest.mark.parametrize("flags, message", [
    (["--deduplication.func=chain"], "invalid choice: 'chain'"),
    (["--debug.max-compaction-level=5"], "level is bigger then default set of 5"),
    (["--selector.relabel-config-file=x.yml"], "not implemented in thanos_rs's compactor"),
])
def test_bad_or_unsupported_flags_are_usage_errors(tmp_path, flags, message):
    out = run(tmp_path, *flags)
    assert out.returncode == 2 and message in out.stderr, out.stderr
