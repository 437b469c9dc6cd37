"""``mypages plugin check NAME`` and the checks it runs (mypages.testing.checks) on plugins
installed for the test: each problem named with its fix, exit status 1, never a crash."""
from __future__ import annotations

import configparser
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from mypages.cli import main
from mypages.testing.checks import plugin_problems
from tests.core.plugins.conftest import SitePackages

ROOT = Path(__file__).resolve().parents[3]


def repository_plugins() -> list[str]:
    """The entry-point names of the plugins this repository ships (plugins/*, examples/*,
    devtools), read from their setup.cfg, so a new one is checked from its first commit."""
    names = []
    for setup in sorted([*ROOT.glob("plugins/*/setup.cfg"), *ROOT.glob("examples/*/setup.cfg"),
                         ROOT / "devtools" / "setup.cfg"]):
        declared = configparser.ConfigParser()
        declared.read(setup)
        lines = declared.get("options.entry_points", "mypages.plugins", fallback="")
        names += [line.split("=")[0].strip() for line in lines.splitlines() if "=" in line]
    return names


REPOSITORY_PLUGINS = repository_plugins()

#: a plugin with one of everything wrong: a form that takes no CSRF token and writes, a company
#: page for every company (no module predicate), and a message without its translations
LEAKY = '''
from pyramid.view import view_config
from mypages.toolkit import (Module, TranslationStringFactory, hookimpl, save_module_settings)

_ = TranslationStringFactory("mypages_test_leaky")
mypages_hookspec = "2.3"


@hookimpl
def mypages_modules():
    return [Module(key="leaky", title=_("Leaky"), description=_("Leaks."), trial_days=10)]


@view_config(route_name="leaky_page", permission="company.view", request_method="GET",
             renderer="string")
def page(request):
    return "a page for every company"


@view_config(route_name="leaky_save", module="leaky", permission="company.admin",
             request_method="POST", require_csrf=False, renderer="string")
def save(request):
    save_module_settings(request, "leaky", {"heading": request.POST.get("heading", "")})
    return "saved"


def includeme(config):
    config.add_translation_dirs("mypages_test_leaky:locale/")
    config.add_company_route("leaky_page", "/leaky")
    config.add_company_route("leaky_save", "/leaky/save", request_method="POST")
    config.scan()
'''
POT = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Leaky"
msgstr ""
'''


@pytest.fixture(autouse=True)
def command_installed(tmp_path):
    """The ``mypages.commands`` entry point of setup.cfg, for an environment installed
    before it was declared."""
    declared = configparser.ConfigParser()
    declared.read(ROOT / "setup.cfg")
    value = declared["options.entry_points"]["mypages.commands"].strip()
    folder = tmp_path / "commands"
    dist_info = folder / "mypages_commands_of_setup_cfg-0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: commands-of-setup-cfg\n"
                                        "Version: 0\n")
    (dist_info / "entry_points.txt").write_text(f"[mypages.commands]\n{value}\n")
    site = SitePackages(folder)
    yield
    site.close()


@pytest.fixture
def site_path(tmp_path) -> Path:
    path = tmp_path / "site-packages"
    path.mkdir()
    return path


@pytest.fixture
def installed(site_path):
    """``installed(name, source)``: a plugin installed for the test, with locale files given
    as ``{relative path: text}``."""
    site = SitePackages(site_path)

    def install(name: str, source: str, files: dict | None = None) -> str:
        package = site.add_plugin(name, textwrap.dedent(source))
        for relative, text in (files or {}).items():
            path = site_path / package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return package

    yield install
    site.close()


def check(*args: str):
    """``mypages plugin check ARGS`` as the installed command runs it (the mypages.commands
    entry point is read from this source tree's setup.cfg when the environment predates it)."""
    return CliRunner().invoke(main, ["plugin", "check", *args], obj={"env": None})


def test_the_repository_plugins_are_all_found():
    assert set(REPOSITORY_PLUGINS) >= {"bankid", "devtools", "notes", "ocr", "rates",
                                       "sso_azure", "sso_google"}


@pytest.mark.parametrize("plugin", REPOSITORY_PLUGINS)
def test_every_plugin_in_the_repository_passes_the_check(plugin):
    """What ``mypages plugin check`` runs, on every plugin this repository ships."""
    problems = plugin_problems(plugin)
    assert problems == [], "\n".join(map(str, problems))


def test_a_plugin_that_fails_to_import_is_a_problem_not_a_crash(installed):
    installed("broken", 'raise RuntimeError("the plugin is broken")\n')

    result = check("broken")

    assert result.exit_code == 1, result.output
    assert "importing mypages_test_broken failed: RuntimeError('the plugin is broken')" in result.output
    assert "fix: " in result.output and "Traceback" not in result.output


def test_a_plugin_that_stops_the_portal_from_starting_is_a_problem(installed):
    installed("stopper", '''
        mypages_hookspec = "2.3"

        def includeme(config):
            raise ValueError("no includeme today")
        ''')

    result = check("stopper")

    assert result.exit_code == 1, result.output
    assert "the portal does not start with the plugin" in result.output
    assert "no includeme today" in result.output


def test_a_missing_translation_and_an_unprotected_post_are_named_with_their_fixes(installed):
    po = POT.replace('msgstr ""\n', 'msgstr ""\n', 1)
    files = {"locale/mypages_test_leaky.pot": POT,
             **{f"locale/{language}/LC_MESSAGES/mypages_test_leaky.po":
                po.replace('msgid "Leaky"\nmsgstr ""', 'msgid "Leaky"\nmsgstr "Läckande"')
                for language in ("en", "da", "nb", "fi", "lt", "lv", "et")},
             "locale/sv/LC_MESSAGES/mypages_test_leaky.po": po}
    installed("leaky", LEAKY, files)

    result = check("leaky")

    assert result.exit_code == 1, result.output
    problems = result.output.split("\n\n")
    [csrf] = [p for p in problems if "route 'leaky_save'" in p and "without a CSRF token" in p]
    assert "require_csrf=False" in csrf
    assert any("changed the tables module_settings" in p for p in problems)
    [translation] = [p for p in problems if "sv" in p and "fix:" in p and "Leaky" in p]
    [open_page] = [p for p in problems if "route 'leaky_page'" in p]
    assert "answers every company" in open_page and 'module="leaky"' in open_page
    assert "problem(s)" in result.stderr


def test_a_company_page_outside_the_company_routes_is_named(installed):
    installed("open", '''
        from pyramid.view import view_config
        from mypages.toolkit import Module, hookimpl

        mypages_hookspec = "2.3"


        @hookimpl
        def mypages_modules():
            return [Module(key="open", title="Open", description="Open.", trial_days=10)]


        @view_config(route_name="open_page", renderer="string")
        def page(request):
            return f"company {request.matchdict['company_id']}"


        def includeme(config):
            config.add_route("open_page", "/c/{company_id}/open")  # not add_company_route
            config.scan()
        ''')

    problems = [str(problem) for problem in plugin_problems("open")]

    [every_company, stranger] = [problem for problem in problems if "route" in problem]
    assert "route 'open_page' (/c/{company_id}/open) answers every company" in every_company
    assert "for an admin of another company: answered 200 OK" in stranger
    assert "config.add_company_route" in stranger


def test_the_command_is_listed_and_takes_placeholders(installed):
    result = CliRunner().invoke(main, ["--help"], obj={"env": None})
    assert "plugin" in result.output

    refused = check("notes", "--placeholder", "no-equals-sign")
    assert refused.exit_code == 2 and "is not NAME=VALUE" in refused.output

    passed = check("notes", "--placeholder", "note_id=1", "--field", "text=Forged")
    assert passed.exit_code == 0, passed.output
    assert "plugin notes: no problems found" in passed.output
