"""Thanos's ``tools bucket inspect`` output formats: the table that
olekukonko/tablewriter (v0.0.2) renders with Thanos's settings, and CSV/TSV
as Go's ``encoding/csv`` writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


def _center(text: str, width: int) -> str:
    # tablewriter's Pad: the odd space of the gap goes to the right.
    gap = width - len(text)
    left = gap // 2
    return " " * left + text + " " * (gap - left)


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Borders left and right but not top or bottom, ``|`` between columns
    and at crossings, centred headers, left-aligned cells, no wrapping."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    lines = ["|" + "".join(f" {_center(h, w)} |" for h, w in zip(header, widths))]
    lines.append("|" + "".join("-" * (w + 2) + "|" for w in widths))
    lines += ["|" + "".join(f" {c.ljust(w)} |" for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines) + "\n"


def render_separated(header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
