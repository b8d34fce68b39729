"""Under CI the suite tests the wheel that .ci/run built and installed into
.venv, never the source tree (pyproject.toml's pytest `pythonpath` holds only
tests/ and benches/). Locally `make dev` builds in place, so this holds only
where CI is set."""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

import pytest

import thanos_rs
import thanos_rs._core

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI is sure to test an installed wheel")
def test_ci_tests_the_installed_wheel():
    where = Path(thanos_rs.__file__).resolve()
    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    assert sys.prefix != sys.base_prefix, "not a virtual environment"
    assert where.is_relative_to(site), f"thanos_rs imported from {where}"
    assert not where.is_relative_to(ROOT / "python")
    # The extension is the wheel's too (an in-place build puts it in python/).
    assert Path(thanos_rs._core.__file__).resolve().parent == where.parent
