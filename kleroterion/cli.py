"""The ``kleroterion`` command. Each service adds its own subcommands in ``COMMANDS``."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import TypeAlias

# What ``add_parser(sub)`` of every subcommand module receives.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# Subcommand modules; each has ``add_parser(subparsers)`` that sets ``func``.
COMMANDS = [
    "kleroterion.commands",
    "kleroterion.launcher",
    "demos",
    "kleroterion.ops.commands",
    "services.sortition.commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kleroterion",
        description="Citizens' assemblies end to end: invitations, fair selection, sessions, "
                    "recommendations and public answers.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        status: int = args.func(args) or 0
        return status
    except (ValueError, FileNotFoundError) as exc:
        # Our errors name the field or variable; a traceback would only hide that.
        print(f"kleroterion {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
