"""The layers of docs/CONVENTIONS.md, checked on the import graph.

Every ``.py`` file under ``services/``, ``plugins/``, ``kleroterion/`` and ``demos/`` is parsed
(not imported) and every import statement in it counts, also those inside functions or under
``if TYPE_CHECKING``: a late import is still an arrow between layers. From top to bottom:
demos, kleroterion (the top layer), plugins, the services, services.common, and the generated
services.contracts, which anything may import.
"""
from __future__ import annotations

import ast
import functools
import pathlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMPORT_ROOTS = ("services", "plugins", "kleroterion", "demos")
CONTRACTS = "services.contracts"
COMMON = "services.common"


@dataclass(frozen=True)
class Import:
    """One arrow: ``importer`` (at ``where``) imports ``target``."""

    importer: str
    target: str
    where: str

    def __str__(self) -> str:
        return f"{self.importer} imports {self.target} ({self.where})"


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, pathlib.Path]:
    found: dict[str, pathlib.Path] = {}
    for root in IMPORT_ROOTS:
        for path in sorted((ROOT / root).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _is_internal(name: str) -> bool:
    return name.split(".", 1)[0] in IMPORT_ROOTS


def _base_of_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    if level > 1:
        package = package[:-(level - 1)]
    return ".".join(package + ([module] if module else []))


def imports_of(name: str, source: str, *, is_package: bool, shown_as: str,
               known: Iterable[str]) -> list[Import]:
    """The internal modules that ``name`` imports; ``from package import module`` is an
    arrow to the module, ``from module import function`` one to the module."""
    modules = set(known)
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=shown_as)):
        where = f"{shown_as}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, where) for alias in node.names
                      if _is_internal(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _base_of_relative(name, is_package, node.level, node.module)
            if not _is_internal(base):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append(Import(name, submodule if submodule in modules else base, where))
    return found


@functools.cache
def import_graph() -> dict[str, list[Import]]:
    files = source_files()
    return {name: imports_of(name, path.read_text(encoding="utf-8"),
                             is_package=path.name == "__init__.py",
                             shown_as=str(path.relative_to(ROOT)), known=files)
            for name, path in files.items()}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def service_of(name: str) -> str | None:
    """The service package ``name`` belongs to (``services.registry``), None outside them."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "services":
        return None
    package = ".".join(parts[:2])
    if package in (COMMON, CONTRACTS):
        return None
    return package


def entangled(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) for every group of modules that import each other."""
    return [_cycle_through(group, graph) for group in entangled(graph)]


def _cycle_through(group: list[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """A shortest way from the group's first module back to itself inside the group."""
    start, members = group[0], set(group)
    parent: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(set(graph.get(node, ())) & members):
                if nxt == start:
                    path = [node]
                    while (previous := parent[path[-1]]) is not None:
                        path.append(previous)
                    return [*reversed(path), start]
                if nxt not in parent:
                    parent[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {group}")  # Tarjan said there was one


def _arrows() -> Iterator[Import]:
    for found in import_graph().values():
        yield from found


def _report(violations: Iterable[Import]) -> str:
    return "\n".join(sorted({str(v) for v in violations}))


def test_the_graph_covers_every_layer() -> None:
    graph = import_graph()
    for package in ("services.common", "services.registry", "services.sortition",
                    "services.sessions", "services.recommendations", "plugins", "kleroterion",
                    "demos"):
        assert package in graph, f"{package}: not found under {ROOT}"
    assert any(i.target.startswith(COMMON) for i in _arrows()), "no import of services.common seen"


def test_no_import_cycle() -> None:
    graph = {name: [i.target for i in found] for name, found in import_graph().items()}
    report = [f"{' -> '.join(_cycle_through(group, graph))}"
              + (f"\n    (the {len(group)} modules tied up: {', '.join(group)})"
                 if len(group) > 2 else "")
              for group in entangled(graph)]
    assert not report, "import cycles:\n" + "\n".join(report)


def test_common_knows_no_service_and_nothing_above() -> None:
    violations = [i for i in _arrows() if _within(i.importer, COMMON)
                  and (service_of(i.target) is not None
                       or i.target.split(".")[0] in ("kleroterion", "plugins", "demos"))]
    assert not violations, "services.common must know no service:\n" + _report(violations)


def test_a_service_imports_no_other_service_and_nothing_above() -> None:
    violations = []
    for i in _arrows():
        own = service_of(i.importer)
        if own is None:
            continue
        other = service_of(i.target)
        if (other is not None and other != own) \
                or i.target.split(".")[0] in ("kleroterion", "plugins", "demos"):
            violations.append(i)
    assert not violations, "services import only themselves, services.common and " \
                           "services.contracts:\n" + _report(violations)


def test_plugins_import_only_the_plugin_api() -> None:
    violations = [i for i in _arrows() if _within(i.importer, "plugins")
                  and ((_within(i.target, "services") and not _within(i.target, CONTRACTS))
                       or _within(i.target, "demos"))]
    assert not violations, "plugins import kleroterion.plugin, not services.* or demos:\n" \
                           + _report(violations)


def test_nothing_in_a_service_imports_its_app() -> None:
    violations = [i for i in _arrows()
                  if (own := service_of(i.importer)) is not None
                  and i.importer != f"{own}.app" and i.target == f"{own}.app"]
    assert not violations, "app.py is the top of a service; nothing in it imports app:\n" \
                           + _report(violations)


def test_the_cycle_finder_names_the_cycle() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e"], "f": ["d"]}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": ["b"], "b": []}) == []


def test_imports_resolve_to_modules() -> None:
    source = """
from __future__ import annotations
import json
import services.common.bus
from services.common import events, storage
from services.common.audit import record
from . import queries
from .views import signup
from ..common.web import ApiError
def late():
    from demos import harness
"""
    known = {"services.common.events", "services.registry.queries",
             "services.registry.views.signup", "services.common.web"}
    found = imports_of("services.registry.inputs", source, is_package=False,
                       shown_as="services/registry/inputs.py", known=known)
    assert [i.target for i in found] == [
        "services.common.bus", "services.common.events", "services.common",
        "services.common.audit", "services.registry.queries", "services.registry.views.signup",
        "services.common.web", "demos"]
    assert found[-1].where == "services/registry/inputs.py:11"
    in_package = imports_of("services.registry.views", "from . import signup\n",
                            is_package=True, shown_as="x", known=known)
    assert [i.target for i in in_package] == ["services.registry.views.signup"]
