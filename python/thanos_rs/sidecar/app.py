"""Placeholder until the sidecar is built."""

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    sys.stderr.write("thanos_rs sidecar: not built yet\n")
    return 1
