"""Every path of this repository that its documents and comments name
exists: README's `rust/query/src/proxy_heap.rs`, a Rust doc comment's
`tests/testdata/promql/FORMAT.md` (once named and absent), a glob of corpus
files. Paths are those starting with a top-level folder of the repository;
in a crate, a path may also be relative to the crate (`tests/x.rs`). Build
outputs (paths .gitignore names, like the Makefile's `_core*.so`) exist only
after a build of that kind, so they are not checked."""

from __future__ import annotations

import glob
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("rust", "python", "tests", "scripts", "benches", "proto", ".ci")
REF = re.compile(rf"(?<![\w./-])((?:{'|'.join(re.escape(f) for f in FOLDERS)})/[\w./<>*-]*[\w/*])")
TEXT = {".md", ".py", ".pyi", ".rs", ".sh", ".toml", ".js", ".html", ".yml", ".yaml", ".proto"}


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / f for f in out.split() if Path(f).suffix in TEXT or Path(f).name in ("Makefile", "run")]


def exists(ref: str, where: Path) -> bool:
    bases = [ROOT]
    parts = where.relative_to(ROOT).parts
    if parts[0] == "rust" and len(parts) > 2:
        bases.append(ROOT / "rust" / parts[1])  # a path within the crate
    return any(glob.glob(str(base / ref)) if "*" in ref else (base / ref).exists() for base in bases)


def ignored(ref: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", ref], cwd=ROOT).returncode == 0


def references(text: str) -> list[str]:
    # Placeholders (`tests/fuzz/corpus/<target>/`) name no one file.
    return [m.rstrip(".") for m in REF.findall(text) if "<" not in m]


def test_the_finder_finds_paths_and_globs():
    text = "see `tests/testdata/promql/FORMAT.md`, tests/fuzz/corpus/frames/regression-*; not tests/<target>/."
    assert references(text) == ["tests/testdata/promql/FORMAT.md", "tests/fuzz/corpus/frames/regression-*"]
    assert not exists("tests/testdata/promql/ABSENT.md", ROOT / "README.md")
    assert ignored("python/thanos_rs/_core*.so") and not ignored("tests/testdata/promql/ABSENT.md")


def test_named_paths_exist():
    missing = []
    checked = 0
    for path in tracked_files():
        # Deleted in the work tree and not yet committed; or this file, whose
        # examples name paths that are not there on purpose.
        if not path.exists() or path == Path(__file__).resolve():
            continue
        for ref in references(path.read_text(errors="replace")):
            checked += 1
            if not exists(ref, path) and not ignored(ref):
                missing.append(f"{path.relative_to(ROOT)}: {ref}")
    assert checked > 100, "the finder found almost nothing: is the pattern broken?"
    assert missing == []
