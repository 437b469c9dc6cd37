"""``mypages i18n extract|update|compile|check [--plugin NAME]`` on a plugin installed beside
the tests, found through its entry point; and the check finds what is missing, with the fix."""
from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from mypages.i18n import LANGUAGES
from mypages.testing.checks import catalog_problems
from mypages.testing.cli import OperatorCli

TRANSLATED = {"Hello, colleague": "Hej, kollega", "Contracts": "Avtal"}


@pytest.fixture
def tiny_plugin(tmp_path):
    """A source checkout of plugin ``tiny`` (package ``mypages_tiny``: a message in its code
    and one in a template) with its babel.cfg, installed on ``sys.path``."""
    site = tmp_path / "checkout"
    package = site / "mypages_tiny"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent('''\
        from mypages.toolkit import TranslationStringFactory

        _ = TranslationStringFactory("mypages_tiny")
        mypages_hookspec = "2.0"
        GREETING = _("Hello, colleague")
    '''))
    (package / "templates" / "contracts.jinja2").write_text(
        "<h1>{% trans %}Contracts{% endtrans %}</h1>\n")
    (site / "babel.cfg").write_text("[python: **.py]\n[jinja2: **/templates/**.jinja2]\n")
    dist_info = site / "mypages_tiny-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypages-tiny\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text("[mypages.plugins]\ntiny = mypages_tiny\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield package
    sys.path.remove(str(site))
    sys.modules.pop("mypages_tiny", None)
    importlib.invalidate_caches()


@pytest.fixture
def i18n_cli(tmp_path):
    """The CLI; the i18n commands build no app, so the ini is never read."""
    return OperatorCli(ini=tmp_path / "never-read.ini")


def translate_all(package: Path) -> None:
    for language in LANGUAGES:
        path = package / "locale" / language / "LC_MESSAGES" / "mypages_tiny.po"
        with path.open("rb") as f:
            catalog = read_po(f, locale=language)
        for message in catalog:
            if message.id:
                message.string = TRANSLATED[message.id]
        with path.open("wb") as f:
            write_po(f, catalog)


def test_a_plugins_catalogs_from_extraction_to_compiled(tiny_plugin, i18n_cli):
    assert "there is no .pot" in str(catalog_problems("tiny"))

    i18n_cli("i18n", "extract", "--plugin", "tiny")
    pot = (tiny_plugin / "locale" / "mypages_tiny.pot").read_text()
    assert 'msgid "Hello, colleague"' in pot and 'msgid "Contracts"' in pot
    assert "Project-Id-Version: mypages-tiny" in pot
    i18n_cli("i18n", "update", "--plugin", "tiny")
    assert all((tiny_plugin / "locale" / language / "LC_MESSAGES" / "mypages_tiny.po").is_file()
               for language in LANGUAGES)

    unfinished = i18n_cli("i18n", "check", "--plugin", "tiny", status=1).stdout
    assert "mypages_tiny [fi]: untranslated: 'Contracts'" in unfinished
    assert "fix: translate it in locale/fi/LC_MESSAGES/mypages_tiny.po" in unfinished

    translate_all(tiny_plugin)
    assert catalog_problems("tiny") == []
    assert "complete in all languages" in i18n_cli("i18n", "check", "--plugin", "tiny").stdout
    i18n_cli("i18n", "compile", "--plugin", "tiny")
    assert all((tiny_plugin / "locale" / language / "LC_MESSAGES" / "mypages_tiny.mo").is_file()
               for language in LANGUAGES)


def test_the_check_finds_a_stale_pot_and_a_lacking_language(tiny_plugin, i18n_cli):
    i18n_cli("i18n", "extract", "--plugin", "tiny")
    i18n_cli("i18n", "update", "--plugin", "tiny")
    translate_all(tiny_plugin)
    (tiny_plugin / "locale" / "lv" / "LC_MESSAGES" / "mypages_tiny.po").unlink()
    with (tiny_plugin / "__init__.py").open("a") as f:
        f.write('FAREWELL = _("Goodbye")\n')

    problems = [str(problem) for problem in catalog_problems("tiny")]

    assert ("mypages_tiny:locale/mypages_tiny.pot: in the source but not in the .pot: "
            "'Goodbye'\n    fix: run `mypages i18n extract --plugin tiny` and "
            "`mypages i18n update --plugin tiny`") in problems
    assert any(problem.startswith("mypages_tiny [lv]: missing catalog "
                                  "locale/lv/LC_MESSAGES/mypages_tiny.po") for problem in problems)


def test_an_unknown_plugin_is_named(i18n_cli):
    result = i18n_cli("i18n", "extract", "--plugin", "nosuch", status=2)

    assert "no installed plugin is called 'nosuch'" in result.stderr
