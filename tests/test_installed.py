"""Under CI the suite tests the wheel that .ci/run built and installed into
.venv, never the source tree (pyproject.toml's pytest `pythonpath` holds only
tests/ and benches/). Locally `make dev` builds in place, so this holds only
where CI is set."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import sysconfig
import urllib.parse
import urllib.request
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


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI is sure to test an installed wheel")
def test_ci_tests_the_wheel_this_checkout_built():
    """The installed distribution came from this checkout's target/wheels
    (pip records where: PEP 610's direct_url.json), and from the wheel there
    now, byte for byte: not an older build, nor `maturin develop`'s."""
    direct = json.loads(importlib.metadata.distribution("thanos-rs").read_text("direct_url.json") or "{}")
    wheel = Path(urllib.request.url2pathname(urllib.parse.urlparse(direct.get("url", "")).path))
    assert wheel.suffix == ".whl" and wheel.parent.resolve() == (ROOT / "target" / "wheels").resolve(), direct
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    archive = direct["archive_info"]
    # "hashes" since pip 23.1; "hash" ("sha256=...") before.
    recorded = archive.get("hashes", {}).get("sha256") or archive["hash"].removeprefix("sha256=")
    assert recorded == digest
