"""The core's packages build on each other in the layers of ``mypages.LAYERS``, lowest first.

Read from the source (every import in every module of core/mypages, at the top of a module,
under ``if TYPE_CHECKING:`` or inside a function alike), not from what happens to be
imported at run time. A package imports only from layers below its own; packages of one layer
never import each other; no import is put inside a function to get round a cycle. Where a
lower layer needs something of a higher one, the higher one hands it down at start-up
(docs/contributing/architecture.rst says how).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import mypages

CORE = Path(mypages.__file__).resolve().parent
ROOT = "mypages"


@dataclass(frozen=True)
class Import:
    source: str   # the importing module, e.g. "mypages.accounts.views.sign_in"
    target: str   # the imported core module, e.g. "mypages.sso.domains"
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"{self.source} imports {self.target}, line {self.line}{where}"


@cache
def core_modules() -> dict[str, Path]:
    """Every module of the core by its dotted name."""
    found = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolved(name: str) -> str:
    """The core module a dotted name is in: a module itself, or the module a name is taken from."""
    modules = core_modules()
    while name not in modules:
        name = name.rpartition(".")[0]
    return name


def _in_function(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


@cache
def core_imports() -> tuple[Import, ...]:
    found = {}  # in the order of the source, once per module imported on a line
    for source, path in core_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the importing module's package
                    package = source.split(".") if path.name == "__init__.py" else source.split(".")[:-1]
                    package = package[:len(package) - node.level + 1]
                    base = ".".join(package + ([node.module] if node.module else []))
                # "from mypages import hookspecs" imports the module mypages.hookspecs
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in core_modules() else base
                         for alias in node.names]
            else:
                continue
            for name in names:
                if name == ROOT or name.startswith(ROOT + "."):
                    target = _resolved(name)
                    if target != source:
                        found.setdefault(Import(source, target, node.lineno,
                                                _in_function(node, parents)))
    return tuple(found)


def package_of(module: str) -> str:
    """The top-level module or package of the core a module belongs to ("mypages" for the
    composition root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def layer_of() -> dict[str, int]:
    return {package: level for level, layer in enumerate(mypages.LAYERS) for package in layer}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# -- the tests -------------------------------------------------------------------

def test_the_walk_sees_the_core():
    """A guard for the guard: the walk finds the imports everyone knows are there."""
    imports = {(i.source, i.target) for i in core_imports()}
    assert ("mypages.accounts.models", "mypages.db") in imports
    assert ("mypages.toolkit", "mypages.hookspecs") in imports
    assert len(core_modules()) > 80


def test_every_package_of_the_core_has_one_layer():
    declared = [package for layer in mypages.LAYERS for package in layer]
    packages = {package_of(module) for module in core_modules()}

    assert len(declared) == len(set(declared)), "a package is in two layers"
    assert packages - set(declared) == set(), "a new package needs its place in mypages.LAYERS"
    assert set(declared) - packages == set(), "mypages.LAYERS names a package that is gone"


def test_no_import_goes_against_the_layers():
    layers = layer_of()
    wrong = []
    for imported in core_imports():
        source, target = package_of(imported.source), package_of(imported.target)
        if source == target or layers[target] < layers[source]:
            continue
        how = "a peer in its own layer" if layers[target] == layers[source] else "a layer above"
        wrong.append(f"{imported}: {source} may not import {target}, {how}")

    assert wrong == [], "\n".join(["imports against mypages.LAYERS:", *wrong])


def test_no_import_cycle_between_packages():
    graph = {}
    for imported in core_imports():
        source, target = package_of(imported.source), package_of(imported.target)
        if source != target:
            graph.setdefault(source, set()).add(target)

    assert cycles(graph) == []


def test_no_import_cycle_between_modules():
    """Within a package too (a package's ``__init__`` counts as a module of its own)."""
    graph = {}
    for imported in core_imports():
        graph.setdefault(imported.source, set()).add(imported.target)

    assert cycles(graph) == []


#: Modules of the core that need a dependency of an extra (setup.cfg), by the package: they
#: are imported where they are used, so that the core (and the pytest plugin, which every
#: pytest run in the environment loads) works without that extra.
OPTIONAL = {
    "mypages.testing.dns": "dnslib",                # the "test" extra
    "mypages.testing.hostile": "webtest",           # the "test" extra
    "mypages.testing.mtls": "trustme",              # the "test" extra
    "mypages.testing.outbound": "trustme",          # the "test" extra
    "mypages.testing.s3": "moto",                   # the "test" extra
    "mypages.testing.smtp": "aiosmtpd",             # the "test" extra
}


def test_the_core_imports_its_own_modules_at_the_top():
    """An import of the core inside a function hides a dependency (or a cycle); only a
    module that needs an optional dependency is imported where it is used."""
    hidden = [str(imported) for imported in core_imports()
              if imported.in_function and imported.target not in OPTIONAL]

    assert hidden == [], "\n".join(["imports of the core inside functions:", *hidden])


@pytest.mark.parametrize("module, package", sorted(OPTIONAL.items()))
def test_a_module_imported_late_does_need_an_optional_dependency(module, package):
    tree = ast.parse(core_modules()[module].read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}

    assert package in imported


@pytest.mark.parametrize("source, target", [
    ("accounts", "companies"), ("companies", "accounts"),  # peers
    ("accounts", "sso"), ("db", "accounts"), ("settings", "crypto"),  # upwards
])
def test_the_edges_the_layers_forbid(source, target):
    """The layers keep out the imports that used to tie the core in knots."""
    layers = layer_of()

    assert layers[source] <= layers[target]
