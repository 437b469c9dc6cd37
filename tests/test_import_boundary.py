"""Every distribution of this repository but the core imports from the core only
``mypages.toolkit`` (and ``mypages.testing`` in its tests): what a plugin of anyone's may rely
on, so the examples, the plugins and the development tools show the way and break with no
release.

The distributions are found by their ``setup.cfg``, so a new one is held to the rule at once.
Read from the source with ``ast``: every import, at the top of a module or in a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ("mypages.toolkit",)
ALLOWED_IN_TESTS = ALLOWED + ("mypages.testing",)
SKIPPED = {".git", ".venv", "build", "dist", "node_modules", "__pycache__"}


def distributions(root: Path) -> list[Path]:
    """The folders of the repository's distributions other than the core (the root's)."""
    return sorted(path.parent for path in root.rglob("setup.cfg")
                  if path.parent != root and not SKIPPED & set(path.relative_to(root).parts))


def _python_files(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        parts = set(path.relative_to(folder).parts)
        if not SKIPPED & parts and not any(part.endswith(".egg-info") for part in parts):
            yield path


def _imported(tree: ast.AST):
    """(module, line) of every absolute import; ``from mypages import x`` names mypages.x."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "mypages":
                for alias in node.names:
                    yield f"mypages.{alias.name}", node.lineno
            else:
                yield node.module, node.lineno


def _allowed(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in allowed)


def violations(root: Path) -> list[str]:
    found = []
    for distribution in distributions(root):
        for path in _python_files(distribution):
            in_tests = "tests" in path.relative_to(distribution).parts
            allowed = ALLOWED_IN_TESTS if in_tests else ALLOWED
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for module, line in _imported(tree):
                if (module == "mypages" or module.startswith("mypages.")) and not _allowed(
                        module, allowed):
                    found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def test_the_distributions_import_only_the_toolkit():
    assert {path.relative_to(ROOT).as_posix() for path in distributions(ROOT)} >= {
        "examples/notes", "plugins/sso_azure", "plugins/sso_google"}
    assert violations(ROOT) == [], ("import these through mypages.toolkit (ask for what is "
                                    "missing to be added there)")


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_planted_import_of_the_core_is_found(tmp_path):
    _write(tmp_path / "setup.cfg", "[metadata]\nname = mypages\n")  # the core: not checked
    _write(tmp_path / "core" / "mypages" / "cli.py", "from mypages.work import Work\n")
    # a distribution nobody listed, found by its setup.cfg
    _write(tmp_path / "newcomer" / "setup.cfg", "[metadata]\nname = mypages-newcomer\n")
    _write(tmp_path / "newcomer" / "mypages_newcomer" / "__init__.py", (
        "import mypages.toolkit\n"
        "from mypages.toolkit import hookimpl\n"
        "from mypages import toolkit\n"
        "from mypages_newcomer import views\n"
        "def later():\n"
        "    from mypages.jobs import enqueue_in\n"))
    _write(tmp_path / "newcomer" / "mypages_newcomer" / "views.py",
           "from mypages import people\nimport mypages\nfrom mypages.testing import plugin\n")
    _write(tmp_path / "newcomer" / "tests" / "test_views.py",
           "from mypages.testing.smtp import body_of\nfrom mypages.toolkit import Base\n"
           "from mypages.db import Base\n")

    assert violations(tmp_path) == [
        "newcomer/mypages_newcomer/__init__.py:6 imports mypages.jobs",
        "newcomer/mypages_newcomer/views.py:1 imports mypages.people",
        "newcomer/mypages_newcomer/views.py:2 imports mypages",
        "newcomer/mypages_newcomer/views.py:3 imports mypages.testing",  # only in tests
        "newcomer/tests/test_views.py:3 imports mypages.db",
    ]
