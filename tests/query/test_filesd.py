"""File discovery: Prometheus's file-SD format in YAML and JSON; a file that
breaks keeps the targets it last gave, a file that goes away gives none."""

from __future__ import annotations

import json
import os

import pytest

from thanos_rs.errors import FileSDError
from thanos_rs.query.filesd import MAX_FILE_BYTES, FileSD, check_pattern, parse_targets

YAML = """
- targets: ['127.0.0.1:10901', 'dns+localhost:10902']
  labels:
    env: prod
- targets: ['10.0.0.1:10901']
"""


def test_yaml_and_json_give_the_targets_of_every_group_in_order():
    assert parse_targets(YAML, "a.yml") == ["127.0.0.1:10901", "dns+localhost:10902", "10.0.0.1:10901"]
    groups = [{"targets": ["b:1"], "labels": {"x": "y"}}, {"targets": ["a:2"]}]
    assert parse_targets(json.dumps(groups), "a.JSON") == ["b:1", "a:2"]
    assert parse_targets("", "empty.yaml") == []


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("{not json", "a.json", "Expecting property name"),
        ("", "a.json", "Expecting value"),
        ("targets: [a:1]", "a.yml", "not a list of target groups"),
        ("- targets: a:1", "a.yml", "targets are not a list of strings"),
        ("- targets: [a:1]\n  labels: [x]", "a.yml", "labels are not a mapping"),
        ("- targets: [a:1]\n  target: [b:1]", "a.yml", "field target not found"),
        ("- null", "a.yml", "nil target group item found"),
        ("- [a", "a.yml", "expected ',' or ']'"),
    ],
)
def test_malformed_files_are_errors(text, path, message):
    with pytest.raises(FileSDError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_targets(text, path)


def test_paths_must_be_json_or_yaml_with_a_glob_only_in_the_file_name():
    check_pattern("/etc/sd/*.yml")
    check_pattern("targets.json")
    for bad in ("targets.txt", "/etc/*/targets.yml", "targets"):
        with pytest.raises(FileSDError, match="is not valid for file discovery"):
            check_pattern(bad)
    with pytest.raises(FileSDError):
        FileSD(["x.txt"])


def test_a_broken_file_keeps_its_last_targets_and_a_removed_one_gives_none(tmp_path):
    a, b = tmp_path / "a.yml", tmp_path / "b.json"
    a.write_text("- targets: ['a:1', 'shared:9']")
    b.write_text(json.dumps([{"targets": ["b:1", "shared:9"]}]))
    sd = FileSD([str(tmp_path / "*.yml"), str(tmp_path / "*.json")])
    assert sd.refresh() == ["a:1", "shared:9", "b:1"]

    a.write_text("- targets: ['a:1'")  # broken while being edited
    assert sd.refresh() == ["a:1", "shared:9", "b:1"]
    a.write_text("- targets: ['a:2']")
    assert sd.refresh() == ["a:2", "b:1", "shared:9"]

    b.unlink()
    assert sd.refresh() == ["a:2"]
    # A file broken from the start gives nothing, and the others still count.
    b.write_text("[")
    assert sd.refresh() == ["a:2"]
    # A file past the size limit is refused as a broken one is.
    a.write_text("- targets: ['a:3']\n" + "#" * MAX_FILE_BYTES)
    assert sd.refresh() == ["a:2"]


def test_changes_are_seen_through_the_files_stats(tmp_path):
    a = tmp_path / "a.yml"
    a.write_text("- targets: ['a:1']")
    sd = FileSD([str(tmp_path / "*.yml")])
    sd.refresh()
    assert not sd.changed()
    a.write_text("- targets: ['b:1']")  # same size: the time tells
    os.utime(a, ns=(1, 1))
    assert sd.changed()
    sd.refresh()
    assert not sd.changed()
    (tmp_path / "c.yml").write_text("[]")  # a new file the glob matches
    assert sd.changed()
