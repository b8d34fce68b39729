"""Placeholder until the query is built."""

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    sys.stderr.write("thanos_rs query: not built yet\n")
    return 1
