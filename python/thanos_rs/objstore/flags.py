"""``--objstore.config-file`` and ``--objstore.config``: Thanos's
path-or-content flag pair for the bucket (``extkingpin.RegisterCommonObjStoreFlags``)."""

from __future__ import annotations

import argparse

from thanos_rs.errors import BucketConfigError
from thanos_rs.objstore.config import BucketConfig, from_flags

_HELP = "YAML file that contains object store configuration. See format details: " \
        "https://thanos.io/tip/thanos/storage.md/#configuration "

def add_objstore_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--objstore.config-file", dest="objstore_config_file", default="", metavar="<file-path>",
        help=f"Path to {_HELP}",
    )
    parser.add_argument(
        "--objstore.config", dest="objstore_config", default="", metavar="<content>",
        help=f"Alternative to 'objstore.config-file' flag (mutually exclusive). Content of {_HELP}",
    )


def required_config(args: argparse.Namespace) -> BucketConfig:
    """The config of a command that needs a bucket (``tools bucket``)."""
    cfg = from_flags(args.objstore_config_file, args.objstore_config)
    if cfg is None:
        raise BucketConfigError(
            "flag objstore.config-file or objstore.config is required for running this command "
            "and content cannot be empty."
        )
    return cfg
