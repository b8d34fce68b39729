"""``thanos_rs/_core.pyi`` against the extension it describes: mypy's stubtest
imports the built ``thanos_rs._core`` and fails on any name, signature,
default or kind of member that the stub gets wrong or leaves out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mypy.stubtest  # noqa: F401  (in the test extra: a missing mypy fails here, loudly)

import thanos_rs


def mypy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    # The package as imported (the wheel's, in CI), so that the stub checked
    # is the one shipped beside the extension.
    site = Path(thanos_rs.__file__).parent.parent
    env = dict(os.environ, PYTHONPATH=str(site), MYPY_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )


def test_stub_matches_the_extension(tmp_path):
    run = mypy(tmp_path, "mypy.stubtest", "thanos_rs._core")
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_four_fan_out_requests_are_one_protocol(tmp_path):
    # What the querier's fan-out code relies on, checked on the stub.
    (tmp_path / "fanout_check.py").write_text(
        "from thanos_rs import _core\n"
        "from thanos_rs.query.fanout import FanOut\n"
        "def requests(a: _core.DistributedQuery, b: _core.SeriesQuery, c: _core.LabelsQuery,\n"
        "             d: _core.ProxySeries) -> list[FanOut]:\n"
        "    return [a, b, c, d]\n"
    )
    run = mypy(tmp_path, "mypy", "--strict", "--follow-imports=silent", "fanout_check.py")
    assert run.returncode == 0, run.stdout + run.stderr
