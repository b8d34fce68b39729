"""thanos_rs.tools.table: tablewriter's layout with Thanos's settings, and CSV/TSV."""

from __future__ import annotations

from thanos_rs.tools.table import render_separated, render_table


def test_table_layout():
    # Headers centred (odd space to the right), cells left-aligned, borders
    # left and right only, the rule under the header crossing at "|".
    assert render_table(["ULID", "#SERIES", "X"], [["01ABC", "3", "long value"], ["01B", "1,440", ""]]) == (
        "| ULID  | #SERIES |     X      |\n"
        "|-------|---------|------------|\n"
        "| 01ABC | 3       | long value |\n"
        "| 01B   | 1,440   |            |\n"
    )


def test_table_without_rows_is_the_header():
    assert render_table(["A", "BB"], []) == "| A | BB |\n|---|----|\n"


def test_separated():
    assert render_separated(["A", "B"], [["1,440", "x"]], ",") == 'A,B\n"1,440",x\n'
    assert render_separated(["A", "B"], [["1,440", "x"]], "\t") == "A\tB\n1,440\tx\n"
