"""The `whistle` console script: `whistle -c FILE <command>`, reading the same .ini as the app."""
from __future__ import annotations

import argparse
import sys

from whistle.cli import accounts, audit, backup, blobs, board, channels, database, demo, integrations, keys, tick
from whistle.cli.env import CommandError
from whistle.desk import cli as desk
from whistle.settings import ConfigurationError

# Each module has `register(subparsers)`; the commands are listed in this order in `whistle --help`.
COMMANDS = (database, keys, accounts, demo, audit, channels, board, integrations, tick, blobs, backup, desk)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="whistle", description="Administer a whistle installation.")
    parser.add_argument("-c", "--config", default="development.ini", help="the .ini file (default: development.ini)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except ConfigurationError as error:
        print(f"whistle: configuration error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"whistle: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
