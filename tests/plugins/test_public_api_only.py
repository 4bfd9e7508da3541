"""Datasette's rule: the built-in plugins are plugins like any other, so they import the
platform only through the public plugin API (``kleroterion.plugin``)."""
from __future__ import annotations

import ast
import pathlib

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"


def imported_modules(path: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_builtin_plugins_import_only_the_public_plugin_api():
    sources = sorted(PLUGINS.rglob("*.py"))
    assert len(sources) > 5
    reaching_in = {str(path.relative_to(PLUGINS.parent)): sorted(
        m for m in imported_modules(path)
        if m.split(".")[0] == "services" or (m.split(".")[0] == "kleroterion"
                                             and m != "kleroterion.plugin"))
        for path in sources}
    assert {path: modules for path, modules in reaching_in.items() if modules} == {}
