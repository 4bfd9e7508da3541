"""The command line imports only the module of the command being run; the table that says
which module adds which command must match what the modules really add."""
from __future__ import annotations

import subprocess
import sys

from kleroterion import cli


def test_every_command_module_pair_is_true() -> None:
    full = cli.build_parser()
    sub = next(a for a in full._actions if a.dest == "command")
    assert set(sub.choices) == set(cli.COMMAND_MODULES)  # type: ignore[arg-type]
    for command, module in cli.COMMAND_MODULES.items():
        alone = cli.build_parser(command)
        only = next(a for a in alone._actions if a.dest == "command")
        assert command in only.choices, (command, module)  # type: ignore[operator]


def test_select_does_not_import_the_flask_services_and_uses_one_blas_thread() -> None:
    code = ("import sys; from kleroterion import cli; cli.build_parser('select'); "
            "import os; print(os.environ['OPENBLAS_NUM_THREADS']); "
            "print(any(m.startswith('services.sessions') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"}).stdout.split()
    assert out == ["1", "False"]
