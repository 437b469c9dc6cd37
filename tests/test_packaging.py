"""Every folder Python can import from a distribution's package is one of its packages, so
installing it (``make run`` installs eight) prints none of setuptools' "Package would be
ignored" warnings: templates, static files and catalogs are packages of their own."""
from __future__ import annotations

from pathlib import Path

import pytest
from setuptools.config.setupcfg import read_configuration

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = [REPO, REPO / "devtools", REPO / "examples" / "notes",
                 *sorted(path for path in (REPO / "plugins").iterdir() if path.is_dir())]


def importable(root: Path, package: Path) -> set[str]:
    """The dotted names of ``package`` and every folder under it with files that Python
    could import as a package (a name that is an identifier; caches aside)."""
    found = set()
    for folder in [package, *package.rglob("*")]:
        parts = folder.relative_to(root).parts
        if (folder.is_dir() and all(part.isidentifier() for part in parts)
                and "__pycache__" not in parts and any(p.is_file() for p in folder.iterdir())):
            found.add(".".join(parts))
    return found


@pytest.mark.parametrize("folder", DISTRIBUTIONS, ids=lambda path: path.name)
def test_every_importable_folder_is_a_package_of_the_distribution(folder, monkeypatch):
    monkeypatch.chdir(folder)  # setup.cfg's paths are relative to its folder
    options = read_configuration(folder / "setup.cfg")["options"]
    root = folder / options.get("package_dir", {}).get("", ".")
    listed = set(options["packages"])
    names = {name.split(".")[0] for name in listed}
    expected = set().union(*(importable(root, root / name) for name in names))
    assert expected - listed == set(), "left out of `packages`"
    assert not any(name.split(".")[0] == "tests" for name in listed)
