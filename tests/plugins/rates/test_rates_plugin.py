"""The distribution: found through its entry point, passing the plugin check (hooks, catalogs
in eight languages, migrations matching its models, CSRF on every POST, pages through the
module's lifecycle), and its sources pluggable by another plugin."""
from __future__ import annotations

from importlib.metadata import entry_points

from mypages.testing.checks import catalog_problems, migration_problems, plugin_problems
from mypages_rates.config import collect_sources, sources
from mypages_rates.sources.morningstar import MorningstarAdapter


def test_the_distribution_offers_the_module_through_its_entry_point(app):
    [point] = [ep for ep in entry_points(group="mypages.plugins") if ep.name == "rates"]
    assert point.load().mypages_hookspec == "2.4"
    assert list(sources(app.registry)) == ["ecb", "fixer", "riksbank_swea", "riksbank_swestr"]


def test_the_plugin_passes_the_plugin_check():
    # CSV and JSON answer only for a series the company follows (tests in test_pages)
    problems = plugin_problems("rates", skip=("rates_csv", "rates_json"))
    assert problems == [], "\n".join(map(str, problems))


def test_every_message_is_translated_in_eight_languages():
    assert catalog_problems("rates") == []


def test_the_migrations_make_what_the_models_say(app, tmp_path):
    assert migration_problems(app, "mypages-rates", f"sqlite:///{tmp_path}/fresh.sqlite") == []


class LicensedMorningstar(MorningstarAdapter):
    series_ids = {"F0GBR04SKZ": "A fund"}


class ThirdParty:
    """Another plugin, adding a source through the hook without touching this one."""

    @staticmethod
    def rates_sources():
        return [LicensedMorningstar()]


def test_another_plugin_adds_a_source_through_the_hook(app):
    from mypages.toolkit import hookimpl
    plugin = type("morningstar_plugin", (), {
        "rates_sources": staticmethod(hookimpl(ThirdParty.rates_sources))})
    manager = app.registry["plugins.manager"]
    manager.register(plugin, name="morningstar-test")
    try:
        collect_sources(app.registry)
        assert sources(app.registry)["morningstar"].series()[0].code == "F0GBR04SKZ"
    finally:
        manager.unregister(name="morningstar-test")
        collect_sources(app.registry)
    assert "morningstar" not in sources(app.registry)
