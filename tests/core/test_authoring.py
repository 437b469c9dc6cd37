"""``mypages plugin new NAME`` (mypages.authoring): what it makes, what it refuses, and that
the template ships in the core's wheel. That the plugin it makes installs, passes its own
tests and ``mypages plugin check``, and works in the portal is tests/e2e/test_plugin_new.py."""
from __future__ import annotations

import ast
import configparser
import glob
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import mypages
from mypages import authoring
from mypages.cli import main
from mypages.hookspecs import HOOKSPEC_VERSION
from mypages.i18n import LANGUAGES, catalogs

CORE = Path(mypages.__file__).resolve().parent
SETUP_CFG = CORE.parents[1] / "setup.cfg"


def make(*args: str):
    return CliRunner().invoke(main, ["plugin", "new", *args], catch_exceptions=False)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return found | {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level}


def test_a_new_plugin_is_a_whole_distribution_with_complete_catalogs(tmp_path):
    folder = tmp_path / "greetings"
    result = make("greetings", "--into", str(folder))

    assert result.exit_code == 0, result.output
    assert f"made mypages-greetings in {folder}" in result.output
    assert "pip install -e '.[test]'" in result.output and "pytest" in result.output
    package = folder / "mypages_greetings"
    for part in ("setup.cfg", "pyproject.toml", "babel.cfg", "README.md", "development.ini",
                 ".gitignore", ".github/workflows/tests.yml", "tests/conftest.py",
                 "tests/test_pages.py", "tests/test_jobs.py", "tests/test_checks.py",
                 "mypages_greetings/__init__.py", "mypages_greetings/views.py",
                 "mypages_greetings/jobs.py", "mypages_greetings/models.py",
                 "mypages_greetings/migrations/env.py",
                 "mypages_greetings/migrations/versions/greetings_0001_entries.py",
                 "mypages_greetings/templates/page.jinja2",
                 "mypages_greetings/templates/settings.jinja2"):
        assert (folder / part).is_file(), part
    setup = configparser.ConfigParser()
    setup.read(folder / "setup.cfg")
    assert setup["options.entry_points"]["mypages.plugins"].strip() == \
        "greetings = mypages_greetings"
    version = ".".join(map(str, HOOKSPEC_VERSION))
    assert f'mypages_hookspec = "{version}"' in (package / "__init__.py").read_text()

    domain = catalogs.Domain("mypages_greetings", package, "mypages_greetings",
                             "mypages-greetings", "greetings")
    assert catalogs.problems(domain) == []
    assert all(domain.po(language).with_suffix(".mo").is_file() for language in LANGUAGES)


def test_the_new_plugin_imports_only_the_toolkit_from_the_core(tmp_path):
    make("greetings", "--into", str(tmp_path))

    for path in sorted(tmp_path.rglob("*.py")):
        allowed = ("mypages.toolkit", "mypages.testing") if path.parent.name == "tests" \
            else ("mypages.toolkit",)
        core = {name for name in imported_modules(path)
                if name == "mypages" or name.startswith("mypages.")}
        assert {name for name in core if not name.startswith(allowed)} == set(), path


def test_the_title_and_description_given_are_the_modules_in_every_language(tmp_path):
    result = make("visitor_log", "--into", str(tmp_path), "--title", "Visitor log",
                  "--description", "Who came to the office, and when.")

    assert result.exit_code == 0, result.output
    init = (tmp_path / "mypages_visitor_log" / "__init__.py").read_text()
    assert 'title=_("Visitor log")' in init
    assert 'description=_("Who came to the office, and when.")' in init
    domain = catalogs.Domain("mypages_visitor_log", tmp_path / "mypages_visitor_log",
                             "mypages_visitor_log", "mypages-visitor-log", "visitor_log")
    assert catalogs.problems(domain) == []
    assert 'msgid "Visitor log"\nmsgstr "Visitor log"' in domain.po("sv").read_text()


def test_the_readme_has_the_two_commands_and_ci_runs_both_databases(tmp_path):
    make("greetings", "--into", str(tmp_path))

    readme = (tmp_path / "README.md").read_text()
    assert ("mypages -c development.ini db upgrade && mypages -c development.ini demo && "
            "pserve development.ini") in readme
    assert "\n    pytest\n" in readme
    # the map of the folder: one column of paths, one of what they are, whatever the name
    where = readme.split("## Where things are\n\n")[1].split("\n\n")[0].splitlines()
    columns = {re.match(r"    \S+ +", line).end() for line in where}
    assert len(where) == 10 and columns == {38}, where
    ci = yaml.safe_load((tmp_path / ".github/workflows/tests.yml").read_text())
    job = ci["jobs"]["test"]
    assert job["strategy"]["matrix"]["database"] == ["sqlite", "postgresql"]
    assert job["env"]["MYPAGES_TEST_DB"] == "${{ matrix.database }}"
    assert [step["run"] for step in job["steps"] if step.get("name") in ("Tests", "Checks")] == \
        ["pytest", "mypages plugin check greetings"]


@pytest.mark.parametrize("name", ["Greetings", "g", "class", "two-words", "x" * 31, "1st"])
def test_a_name_that_cannot_be_a_plugins_is_refused_and_nothing_is_made(tmp_path, name):
    result = make(name, "--into", str(tmp_path / "plugin"))

    assert result.exit_code == 2
    assert f"{name!r} is no plugin name: 2 to 30 lower-case letters" in result.stderr
    assert not (tmp_path / "plugin").exists()


@pytest.mark.parametrize("option, text", [("--title", 'Say "hi"'), ("--title", "50%"),
                                          ("--description", "Costs ${price}"),
                                          ("--title", "Two\nlines"), ("--title", "x" * 201)])
def test_a_title_or_description_that_would_break_the_code_is_refused(tmp_path, option, text):
    result = make("greetings", "--into", str(tmp_path / "plugin"), option, text)

    assert result.exit_code == 2
    assert "must be 1 to 200 characters, on one line, without quotes" in result.stderr
    assert not (tmp_path / "plugin").exists()


def test_a_folder_with_something_in_it_is_left_alone(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")

    result = make("greetings", "--into", str(tmp_path))

    assert result.exit_code == 2
    assert "already exists and is not an empty folder: choose another with --into" in \
        result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["mine.txt"]


def test_without_the_author_extra_the_command_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(authoring, "copier", None)  # as where copier is not installed

    result = make("greetings", "--into", str(tmp_path / "plugin"))

    assert result.exit_code == 2
    assert "needs copier, which the core's \"author\" extra installs: " \
           "pip install 'mypages[author]'" in result.stderr
    assert not (tmp_path / "plugin").exists()


def test_every_file_of_the_template_is_package_data_of_the_core():
    """The wheel carries the template (setup.cfg's globs, as setuptools expands them; hidden
    files are not matched by ``*`` and must be named)."""
    setup = configparser.ConfigParser()
    setup.read(SETUP_CFG)
    patterns = [line.strip() for line in setup["options.package_data"]["mypages"].splitlines()
                if line.strip() and not line.strip().startswith("#")]
    shipped = {Path(found) for pattern in patterns
               for found in glob.glob(str(CORE / pattern), recursive=True)}
    template = {path for path in authoring.TEMPLATE.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}

    assert template and template - shipped == set()
