"""``tools bucket ls`` and ``tools bucket inspect``: the blocks of a bucket,
listed and printed as Thanos v0.26's ``cmd/thanos/tools_bucket.go`` prints
them."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from thanos_rs.errors import BadDataError
from thanos_rs.objstore import Bucket
from thanos_rs.block.metadata import Meta
from thanos_rs.objstore.block import fetch
from thanos_rs import gofmt
from thanos_rs.tools.table import render_separated, render_table

INSPECT_COLUMNS = ("ULID", "FROM", "UNTIL", "RANGE", "UNTIL-DOWN", "#SERIES", "#SAMPLES", "#CHUNKS",
                   "COMP-LEVEL", "COMP-FAILED", "LABELS", "RESOLUTION", "SOURCE")

# Downsampling (Thanos's pkg/compact/downsample): raw blocks are downsampled to
# 5m once they span 40h, 5m blocks to 1h once they span 10d.
RES_LEVEL_1 = 5 * 60 * 1000
RES_LEVEL_2 = 60 * 60 * 1000
_DOWNSAMPLE_RANGE = {0: 40 * 3600 * 1000, RES_LEVEL_1: 10 * 24 * 3600 * 1000}


def ls(bucket: Bucket, output: str, exclude_delete: bool, out: TextIO = sys.stdout) -> int:
    """Prints each complete block: its ULID (``output`` empty), a line of
    times and origin (``wide``) or its meta.json (``json``). Returns the
    number printed."""
    blocks = fetch(bucket)
    metas = [m for u, m in sorted(blocks.metas.items())
             if not (exclude_delete and u in blocks.marked_for_deletion)]
    for m in metas:
        if output == "":
            out.write(m.ulid + "\n")
        elif output == "wide":
            lo, hi = m.min_time // 1000, m.max_time // 1000
            out.write(f"{m.ulid} -- {gofmt.rfc3339(lo)} - {gofmt.rfc3339(hi)} "
                      f"Diff: {gofmt.duration_ms((hi - lo) * 1000)}, Compaction: {m.compaction_level}, "
                      f"Downsample: {m.resolution}, Source: {m.source}\n")
        else:
            # Go's json.Encoder with SetIndent("", "\t"): the document as stored.
            out.write(json.dumps(m.raw, indent="\t", ensure_ascii=False) + "\n")
    return len(metas)


def parse_selector(items: Sequence[str]) -> dict[str, str]:
    """``--selector name="value"`` flags (``parseFlagLabels``): the value is a
    Go string literal, double-quoted or in backquotes."""
    out = {}
    for item in items:
        name, sep, quoted = item.partition("=")
        if not sep:
            raise BadDataError(f"error parsing selector flag: unrecognized label {item!r}")
        if not name or not (name[0].isalpha() or name[0] == "_") or not name.replace("_", "a").isalnum():
            raise BadDataError(f"error parsing selector flag: unsupported format for label {item}")
        if len(quoted) >= 2 and quoted[0] == quoted[-1] == "`":
            value = quoted[1:-1]
        else:
            try:
                value = json.loads(quoted) if quoted[:1] == '"' else None
            except json.JSONDecodeError:
                value = None
            if not isinstance(value, str):
                raise BadDataError("error parsing selector flag: unquote label value: invalid syntax")
        out[name] = value
    return out


def _until_down(m: Meta) -> str:
    limit = _DOWNSAMPLE_RANGE.get(m.resolution)
    return "-" if limit is None else gofmt.duration_ms(limit - (m.max_time - m.min_time))


def inspect_row(m: Meta) -> list[str]:
    return [
        m.ulid,
        gofmt.rfc3339(m.min_time // 1000),
        gofmt.rfc3339(m.max_time // 1000),
        gofmt.duration_ms(m.max_time - m.min_time),
        _until_down(m),
        gofmt.thousands(m.num_series),
        gofmt.thousands(m.num_samples),
        gofmt.thousands(m.num_chunks),
        gofmt.thousands(m.compaction_level),
        "true" if m.compaction_failed else "false",
        ",".join(f"{k}={v}" for k, v in sorted(m.labels.items())),
        gofmt.duration_ms(m.resolution),
        m.source,
    ]


def _less(a: str, b: str) -> bool:
    # Thanos's compare: as times, else as durations, else as numbers with
    # thousands separators, else as strings.
    ta, tb = gofmt.parse_rfc3339(a), gofmt.parse_rfc3339(b)
    if ta is not None and tb is not None:
        return ta < tb
    da, db = gofmt.parse_duration_ns(a), gofmt.parse_duration_ns(b)
    if da is not None and db is not None:
        return da < db
    na, nb = a.replace(",", ""), b.replace(",", "")
    if na.isdigit() and nb.isdigit():
        return int(na) < int(nb)
    return a < b


def sort_rows(rows: list[list[str]], sort_by: Sequence[str]) -> list[list[str]]:
    indices = [INSPECT_COLUMNS.index(c) for c in sort_by]

    def cmp(x: list[str], y: list[str]) -> int:
        # The first sort column that differs decides; the ULID breaks ties.
        i = next((i for i in indices if x[i] != y[i]), 0)
        return -1 if _less(x[i], y[i]) else 1 if _less(y[i], x[i]) else 0

    return sorted(rows, key=functools.cmp_to_key(cmp))


def inspect(bucket: Bucket, selector: dict[str, str], sort_by: Sequence[str], output: str,
            out: TextIO = sys.stdout) -> None:
    """Prints the table of every complete block whose labels hold ``selector``."""
    metas = fetch(bucket).metas.values()
    rows = [inspect_row(m) for m in metas if all(m.labels.get(k) == v for k, v in selector.items())]
    rows = sort_rows(rows, sort_by)
    if output == "table":
        out.write(render_table(INSPECT_COLUMNS, rows))
    else:
        out.write(render_separated(INSPECT_COLUMNS, rows, "," if output == "csv" else "\t"))
