"""``python -m thanos_rs``: the command line, one subcommand per component, with
Thanos's flag names (see ``thanos sidecar --help`` and ``thanos query --help``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from thanos_rs import __version__
from thanos_rs.compact import cli as compact_cli
from thanos_rs.demo import cli as demo_cli
from thanos_rs.flags import FlagParser
from thanos_rs.query import cli as query_cli
from thanos_rs.sidecar import cli as sidecar_cli
from thanos_rs.store import cli as store_cli
from thanos_rs.tools import cli as tools_cli


def build_parser() -> FlagParser:
    parser = FlagParser(
        prog="thanos_rs",
        description="Thanos's global view (sidecar and querier) with a Rust core.",
    )
    parser.add_argument("--version", action="version", version=f"thanos_rs, version {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="<command>", parser_class=FlagParser)
    sidecar_cli.register(commands)
    query_cli.register(commands)
    store_cli.register(commands)
    compact_cli.register(commands)
    demo_cli.register(commands)
    tools_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return args.run(args)
