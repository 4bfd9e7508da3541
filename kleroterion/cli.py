"""The ``kleroterion`` command. Each service adds its own subcommands in ``COMMANDS``."""
from __future__ import annotations

import os

# One linear-algebra thread per process, set before numpy or scipy load OpenBLAS: the
# engine's small dense solves gain nothing from a second thread, and on a 2-core machine
# numpy's and scipy's thread pools fight each other (a 420-person pool's lottery LP took
# 1.17 s with them and 0.20 s with one; bench/sortition/PLAN-issue21.md). An operator's
# own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - after the thread settings above
import importlib  # noqa: E402
import sys  # noqa: E402
from typing import TypeAlias  # noqa: E402

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
# Which module adds which subcommand, so that a run imports only the module of its own
# command (importing every service's app costs about half a second on each run). A test
# checks this against what the modules really add.
COMMAND_MODULES = {
    "plugins": "kleroterion.commands",
    "settings": "kleroterion.commands",
    "token": "kleroterion.commands",
    "serve": "kleroterion.launcher",
    "demo": "demos",
    "ops": "kleroterion.ops.commands",
    "select": "services.sortition.commands",
    "verify": "services.sortition.commands",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or only of ``command``'s module when it is known."""
    parser = argparse.ArgumentParser(
        prog="kleroterion",
        description="Citizens' assemblies end to end: invitations, fair selection, sessions, "
                    "recommendations and public answers.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else COMMANDS
    for module in modules:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(given[0] if given else None)
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
