"""The ``responsegap`` command. Each sub-command lives in ``responsegap.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from responsegap.domain.model import ConfigError

# name -> module in responsegap.commands exposing register(subparsers) and run(args) -> int
COMMANDS = ("analyze", "report", "profiles", "alerts", "automation", "budget")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="responsegap", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"responsegap.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConfigError as error:
        print(f"responsegap {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
