"""scripts/lib.sh's environment logic (what scripts/setup.sh runs) on a machine
whose only Python command is `python3`, as on Debian 12: PATH holds a folder
with nothing but a `python3` link and the few commands the logic uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each test creates virtual environments (pip's bootstrap takes seconds).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("bash", "rm", "dirname", "cat")


def real_python() -> str:
    """The interpreter itself, not this virtual environment's link to it."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


@pytest.fixture
def bare_path(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(real_python())
    for command in COMMANDS:
        for folder in ("/usr/bin", "/bin"):
            if os.path.exists(f"{folder}/{command}"):
                (bin_dir / command).symlink_to(f"{folder}/{command}")
                break
    return bin_dir


def lib(bin_dir: Path, cwd: Path, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [f"{bin_dir}/bash", "-c", f"set -euo pipefail; source {ROOT}/scripts/lib.sh; {script}"],
        cwd=cwd,
        env={"PATH": str(bin_dir), "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_creates_the_environment_with_only_python3(bare_path, tmp_path):
    assert not (bare_path / "python").exists()
    done = lib(bare_path, tmp_path, "ensure_venv .venv")
    assert done.returncode == 0, done.stderr
    assert "creating the virtual environment .venv" in done.stderr
    venv_python = tmp_path / ".venv" / "bin" / "python"
    out = subprocess.run(
        [venv_python, "-c", "import pip, sys; print(sys.prefix != sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"

    again = lib(bare_path, tmp_path, "ensure_venv .venv")
    assert again.returncode == 0, again.stderr
    assert "creating" not in again.stderr, "a working environment is kept"

    # One whose interpreter has gone (a moved checkout, a removed Python) is made anew.
    venv_python.unlink()
    anew = lib(bare_path, tmp_path, "ensure_venv .venv")
    assert anew.returncode == 0, anew.stderr
    assert "creating" in anew.stderr and venv_python.exists()


def test_refuses_a_python_older_than_3_11(bare_path, tmp_path):
    (bare_path / "python3").unlink()
    # Answers every version check as Python 3.9 would: "too old".
    (bare_path / "python3").write_text("#!/bin/bash\nexit 1\n")
    (bare_path / "python3").chmod(0o755)
    done = lib(bare_path, tmp_path, "ensure_venv .venv")
    assert done.returncode != 0
    assert "no Python 3.11 or later found" in done.stderr
    assert not (tmp_path / ".venv").exists()
