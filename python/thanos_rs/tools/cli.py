"""``thanos_rs tools bucket ls|inspect``: flags as in ``thanos tools bucket``
(Thanos v0.26). The objstore flags belong to ``bucket`` in Thanos, and kingpin
takes them after the verb too; here each verb has them, so that
``tools bucket ls --objstore.config-file=bucket.yml`` works as it does there."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

from thanos_rs import flags
from thanos_rs.errors import ThanosRsError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.flags import add_objstore_flags, required_config
from thanos_rs.tools import bucket as tools_bucket


def register(commands: argparse._SubParsersAction) -> None:
    tools = commands.add_parser("tools", help="Tools utility commands.", description="Tools utility commands.")
    groups = tools.add_subparsers(title="commands", metavar="<command>", parser_class=flags.FlagParser)
    bucket = groups.add_parser("bucket", help="Bucket utility commands.", description="Bucket utility commands.")
    verbs = bucket.add_subparsers(title="commands", metavar="<command>", parser_class=flags.FlagParser)

    ls = verbs.add_parser("ls", help="List all blocks in the bucket.", description="List all blocks in the bucket.")
    add_objstore_flags(ls)
    ls.add_argument(
        "-o", "--output", dest="output", default="",
        help="Optional format in which to print each block's information. Options are 'json' or 'wide' "
        "(Thanos's custom Go templates are not supported).",
    )
    ls.add_argument(
        "--exclude-delete", dest="exclude_delete", action=argparse.BooleanOptionalAction, default=False,
        help="Exclude blocks marked for deletion.",
    )
    _add_timeout(ls)
    ls.set_defaults(run=run_ls)

    inspect = verbs.add_parser(
        "inspect", help="Inspect all blocks in the bucket in detailed, table-like way.",
        description="Inspect all blocks in the bucket in detailed, table-like way.",
    )
    add_objstore_flags(inspect)
    inspect.add_argument(
        "-l", "--selector", dest="selector", action="append", default=[], metavar='<name>="<value>"',
        help="Selects blocks based on label, e.g. '-l key1=\"value1\" -l key2=\"value2\"'. "
        "All key value pairs must match.",
    )
    inspect.add_argument(
        "--sort-by", dest="sort_by", action="append", choices=tools_bucket.INSPECT_COLUMNS, default=None,
        help="Sort by columns. It's also possible to sort by multiple columns, e.g. '--sort-by FROM "
        "--sort-by UNTIL'. I.e., if the 'FROM' value is equal the rows are then further sorted by the "
        "'UNTIL' value. Default: FROM, UNTIL.",
    )
    inspect.add_argument(
        "--output", dest="output", default="table", choices=("table", "tsv", "csv"),
        help="Output format for result. Currently supports table, csv, tsv.",
    )
    _add_timeout(inspect)
    inspect.set_defaults(run=run_inspect)


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", dest="timeout", type=flags.duration, default=300.0,
        help="Timeout to download metadata from remote storage",
    )


def _run(prog: str, args: argparse.Namespace, work: Callable[[Bucket], object]) -> int:
    """Runs ``work(bucket)`` within ``--timeout``; errors end the command as
    Thanos's do, with the message and exit code 1."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            work(Bucket.from_config(required_config(args)))
        except BaseException as e:  # handed to the main thread below
            failure.append(e)

    # A daemon thread: a request that outlives the timeout cannot be
    # interrupted, and must not keep the process from exiting.
    thread = threading.Thread(target=target, name="tools-bucket", daemon=True)
    thread.start()
    thread.join(args.timeout)
    if thread.is_alive():
        sys.stderr.write(f"{prog}: error: context deadline exceeded\n")
        return 1
    if failure:
        if isinstance(failure[0], ThanosRsError):
            sys.stderr.write(f"{prog}: error: {failure[0]}\n")
            return 1
        raise failure[0]
    return 0


def run_ls(args: argparse.Namespace) -> int:
    if args.output not in ("", "wide", "json"):
        flags.fail("thanos_rs tools bucket ls",
                   f"output format {args.output!r} is not supported: use json, wide or none")
    return _run("thanos_rs tools bucket ls", args,
                lambda b: tools_bucket.ls(b, args.output, args.exclude_delete))


def run_inspect(args: argparse.Namespace) -> int:
    selector = tools_bucket.parse_selector(args.selector)
    sort_by = args.sort_by or ["FROM", "UNTIL"]
    return _run("thanos_rs tools bucket inspect", args,
                lambda b: tools_bucket.inspect(b, selector, sort_by, args.output))
