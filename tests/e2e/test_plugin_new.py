"""A plugin author's first hour, as the tutorial (docs/plugins/tutorial.rst) tells it.

``mypages plugin new`` makes a plugin in a folder outside any repository; it is installed with
pip into a fresh virtual environment beside the core, itself installed there from its wheel
(so the template is proven to ship as package data); the plugin's own tests pass, on SQLite
and PostgreSQL, and so does ``mypages plugin check``; the plugin's development.ini migrates
and seeds a database of its own (``db upgrade``, ``demo``); the portal, served from that
environment, offers the new module, and a company admin starts its trial in Chromium and
opens its page.

The fresh environment gets the third-party packages of this one (no network, no index:
symbolic links to what is installed here), but none of the distributions installed here from
source folders (the core and the repository's plugins): those it installs itself.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from playwright.sync_api import expect

import mypages
from mypages.testing.chromium import contexts, seed_company, serve_portal
from tests.e2e.steps import PASSWORD, open_sign_in_and_sign_in

pytestmark = pytest.mark.e2e

REPOSITORY = Path(mypages.__file__).resolve().parents[2]


def _installed_from_a_source_folder(entry: Path) -> bool:
    direct_url = entry / "direct_url.json"
    return (entry.suffix == ".dist-info" and direct_url.is_file()
            and json.loads(direct_url.read_text()).get("dir_info", {}).get("editable", False))


def _clean_environment(venv: Path) -> dict:
    """This process's environment without what would reach into it (its PYTHONPATH, pytest's
    variables), the fresh environment's scripts first on the PATH."""
    kept = {key: value for key, value in os.environ.items()
            if key != "PYTHONPATH" and not key.startswith("PYTEST_")}
    return {**kept, "PATH": f"{venv / 'bin'}{os.pathsep}{kept.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv)}


def _run(*command, env: dict, cwd: Path, timeout: float = 120) -> str:
    done = subprocess.run([str(part) for part in command], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def fresh_environment(venv: Path) -> dict:
    """A virtual environment with this one's third-party packages and the core installed
    from a wheel built from this checkout; returns the environment to run its programs in."""
    env = _clean_environment(venv)
    _run(sys.executable, "-m", "venv", "--without-pip", venv, env=env, cwd=venv.parent)
    site = Path(_run(venv / "bin" / "python", "-c",
                     "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     env=env, cwd=venv).strip())
    shared = Path(sysconfig.get_paths()["purelib"])
    for entry in shared.iterdir():
        if (entry.name.startswith("__editable__") or entry.name == "__pycache__"
                or _installed_from_a_source_folder(entry)):
            continue
        (site / entry.name).symlink_to(entry)
    # pip comes through the links; --no-deps --no-build-isolation: nothing is fetched
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check"]
    _run(*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", venv / "wheels",
         REPOSITORY, env=env, cwd=venv)
    _run(*pip, "install", "-q", "--no-deps", *sorted((venv / "wheels").glob("mypages-*.whl")),
         env=env, cwd=venv)
    return env


def test_a_new_plugin_installs_passes_its_tests_and_runs_in_the_portal(tmp_path, browser):
    env = fresh_environment(tmp_path / "venv")
    bin_ = tmp_path / "venv" / "bin"
    assert _run(bin_ / "python", "-c", "import mypages; print(mypages.__file__)", env=env,
                cwd=tmp_path).startswith(str(tmp_path / "venv"))

    # the tutorial's commands, in order
    made = _run(bin_ / "mypages", "plugin", "new", "greetings", "--title", "Greetings",
                env=env, cwd=tmp_path)
    plugin = tmp_path / "mypages-greetings"
    assert f"made mypages-greetings in {plugin}" in made
    _run(bin_ / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "-e", plugin, env=env, cwd=plugin)
    tests = _run(bin_ / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", env=env,
                 cwd=plugin)
    # 12 tests: the 10 that use the database run on SQLite and on PostgreSQL
    assert re.search(r"\b22 passed\b", tests), tests
    checked = _run(bin_ / "mypages", "plugin", "check", "greetings", env=env, cwd=plugin)
    assert "plugin greetings: no problems found" in checked
    # the portal on the plugin's development.ini, as the tutorial runs it: its database
    # folder (var/) is made on the way
    _run(bin_ / "mypages", "-c", "development.ini", "db", "upgrade", env=env, cwd=plugin)
    demo = _run(bin_ / "mypages", "-c", "development.ini", "demo", env=env, cwd=plugin)
    assert "as admin@greetings.example" in demo, demo
    assert (plugin / "var" / "mypages.sqlite").is_file()

    # the portal from that environment: the new module in the catalogue, its trial, its page
    (tmp_path / "portal").mkdir()
    with serve_portal(tmp_path / "portal", python=bin_ / "python",
                      seed=lambda url, ini: seed_company(url, ini, password=PASSWORD)) as server:
        with contexts(browser, server) as make:
            page = make(locale="en-GB").new_page()
            open_sign_in_and_sign_in(page, server.seeded.admin_email)
            company = f"/c/{server.seeded.company_id}"

            page.goto(f"{company}/settings/modules")
            card = page.locator("#module-greetings")
            expect(card).to_have_attribute("data-state", "available")
            expect(card.get_by_role("heading", name="Greetings")).to_be_visible()
            card.get_by_role("button", name="Activate free trial").click()
            expect(page.get_by_role("status")).to_have_text("The free trial has started.")
            expect(page.locator("#module-greetings")).to_have_attribute("data-state", "trial")
            expect(page.locator("#module-greetings .state")).to_contain_text("10 days left")

            page.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Greetings").click()
            expect(page).to_have_url(re.compile(rf"{re.escape(company)}/greetings$"))
            expect(page.get_by_role("heading", level=1)).to_have_text("Greetings")
            page.get_by_label("New entry").fill("Written in Chromium")
            page.get_by_role("button", name="Add entry").click()
            expect(page.get_by_role("listitem").filter(
                has_text="Written in Chromium")).to_have_count(1)
