"""No name of the package is used where it may be unbound (a variable set
in a ``try`` or a loop and read after it): mypy's ``possibly-undefined`` and
``used-before-def`` checks over the package as installed. Only those two
codes fail the test; the package is not otherwise held to mypy's typing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import thanos_rs

CODES = ("possibly-undefined", "used-before-def")


def test_no_name_is_possibly_unbound(tmp_path):
    site = Path(thanos_rs.__file__).parent.parent
    env = dict(os.environ, PYTHONPATH=str(site))
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--enable-error-code", "possibly-undefined", "--ignore-missing-imports",
         "--cache-dir", str(tmp_path / "cache"), "-p", "thanos_rs"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert "error:" in run.stdout or "Success" in run.stdout, run.stdout + run.stderr  # mypy ran
    unbound = [line for line in run.stdout.splitlines() if re.search(rf"\[({'|'.join(CODES)})\]$", line)]
    assert unbound == []
