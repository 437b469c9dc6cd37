"""The bench-only plugin distribution (plugins/mypages_bench_modules), made importable.

It is installed with pip into a directory of the run's own, which only the
benchmark's processes put on their path: installed into the shared
virtualenv, its five modules would show up in every other app and test.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

DISTRIBUTION = "mypages-bench-modules"
PACKAGE = "mypages_bench_modules"
SOURCE = Path(__file__).parent / "plugins" / PACKAGE


def install(workdir: Path) -> Path | None:
    """Install the plugin under ``workdir`` unless it is installed already.

    Returns the directory to put on ``sys.path``/``PYTHONPATH`` (None when
    the environment has the plugin already).
    """
    try:
        importlib.metadata.distribution(DISTRIBUTION)
        return None
    except importlib.metadata.PackageNotFoundError:
        pass
    # Built from a copy, so the build leaves no egg-info or build/ in the source tree.
    source = workdir / "plugin-source"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("*.egg-info", "build",
                                                                  "__pycache__"))
    target = workdir / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check",
                    "--target", str(target), str(source)], check=True)
    return target


def activate(site: Path | None):
    """Make the installed plugin visible to this process; returns its package."""
    if site is not None and str(site) not in sys.path:
        sys.path.insert(0, str(site))
        importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)
