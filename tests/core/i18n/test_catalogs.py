"""Every message catalog of the core and of every installed plugin is complete and fresh,
checked by the function plugin authors use (mypages.testing.checks.catalog_problems): a
missing .po, an empty or fuzzy translation, a message the .po lacks, a broken placeholder or
a .pot that no longer matches the source fails here, naming the catalog, the language, the
message and the fix."""
from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from mypages.i18n import catalogs
from mypages.testing.checks import catalog_problems


def plugins_with_catalogs() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="mypages.plugins")
                  if (catalogs.package_dir(ep.module) / "locale").is_dir())


@pytest.mark.parametrize("plugin", [None, *plugins_with_catalogs()], ids=lambda p: p or "core")
def test_catalogs_are_fresh_and_complete_in_every_language(plugin):
    problems = catalog_problems(plugin)

    assert problems == [], "\n".join(map(str, problems))


def test_the_plugins_of_this_repository_are_checked():
    assert {"notes", "sso_azure", "sso_google"} <= set(plugins_with_catalogs())
    # a plugin that ships translations without a .pot would escape the check
    for plugin in plugins_with_catalogs():
        assert all(domain.pot.is_file() for domain in catalogs.plugin_domains(plugin)), plugin


def test_the_core_checks_its_pot_against_the_source():
    [core] = catalogs.core_domains()
    assert core.mapping_file() is not None, "babel.cfg of the core not found"
