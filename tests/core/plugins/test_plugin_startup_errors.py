"""Start-up stops with the plugin's name and why, for every kind of broken plugin.

Each test installs real distributions (package + dist-info with an entry
point) and starts the application as the composition root does.
"""
import pytest
from pyramid.exceptions import ConfigurationError, ConfigurationExecutionError

from mypages import main
from mypages.hookspecs import HOOKSPEC_VERSION
from mypages.plugins import PluginError

CORE_VERSION = "{}.{}".format(*HOOKSPEC_VERSION)

GOOD_MODULE = '''
    from mypages.toolkit import Module, hookimpl

    mypages_hookspec = "2.0"

    @hookimpl
    def mypages_modules():
        return [Module(key={key!r}, title="Title", description="Description")]
'''


def start_up_error(settings, **overrides) -> tuple[PluginError, str]:
    """Start the app, expect it to refuse; return the PluginError and the message shown."""
    with pytest.raises(ConfigurationError) as refused:
        main({}, **{**settings, **overrides})
    error = refused.value
    # checks that run at commit (the catalogue) reach the operator wrapped by Pyramid
    if isinstance(error, ConfigurationExecutionError):
        error = error.evalue
    assert isinstance(error, PluginError), refused.value
    return error, str(refused.value)


@pytest.mark.parametrize("declaration, reason", [
    ("", "it does not declare mypages_hookspec"),
    ('mypages_hookspec = "3.0"', f"it was written for hookspec 3.0, this core provides {CORE_VERSION}"
                                 ": upgrade mypages"),
    ('mypages_hookspec = "2.99"', f"it was written for hookspec 2.99, this core provides {CORE_VERSION}"
                                  ": upgrade mypages"),
    ('mypages_hookspec = "1.2"', f"it was written for hookspec 1.2, this core provides {CORE_VERSION}"
                                 ": the plugin must be moved to hookspec 2.0"),
    ('mypages_hookspec = "1"', "mypages_hookspec '1' is not of the form MAJOR.MINOR"),
])
def test_plugin_without_a_compatible_hookspec_stops_start_up(site, startup_settings,
                                                            declaration, reason):
    site.add_plugin("oldtimer", f"{declaration}\n")

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "oldtimer"
    assert reason in error.why
    assert "'oldtimer'" in message and reason in message


def test_plugin_of_an_older_minor_hookspec_starts(site, startup_settings):
    site.add_plugin("steady", GOOD_MODULE.format(key="steady"))

    app = main({}, **startup_settings)

    assert app.registry["modules.catalogue"].owners["steady"] == "steady"
    app.registry["db.engine"].dispose()


def test_plugin_whose_import_raises_stops_start_up(site, startup_settings):
    package = site.add_plugin("crashing", '''
        raise RuntimeError("licence file missing")
    ''')

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "crashing"
    assert f"importing {package} failed" in message
    assert "licence file missing" in message


def test_plugin_whose_includeme_raises_stops_start_up(site, startup_settings):
    site.add_plugin("halfbaked", '''
        mypages_hookspec = "2.0"

        def includeme(config):
            raise LookupError("no route table for halfbaked")
    ''')

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "halfbaked"
    assert "its includeme failed" in message
    assert "no route table for halfbaked" in message


def test_plugin_implementing_an_unknown_hook_stops_start_up(site, startup_settings):
    site.add_plugin("typo", '''
        from mypages.toolkit import hookimpl

        mypages_hookspec = "2.0"

        @hookimpl
        def mypages_modulez():
            return []
    ''')

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "typo"
    assert "mypages_modulez" in message


def test_plugin_hook_with_arguments_the_spec_lacks_stops_start_up(site, startup_settings):
    site.add_plugin("greedy", '''
        from mypages.toolkit import hookimpl

        mypages_hookspec = "2.0"

        @hookimpl
        def mypages_dashboard_cards(request, company, weather):
            return []
    ''')

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "greedy"
    assert "weather" in message


def test_two_plugins_offering_the_same_module_key_stop_start_up(site, startup_settings):
    site.add_plugin("first", GOOD_MODULE.format(key="twin"))
    site.add_plugin("second", GOOD_MODULE.format(key="twin"))

    error, message = start_up_error(startup_settings, **{"mypages.plugins.allow": "first second"})

    other = ({"first", "second"} - {error.plugin_name}).pop()
    assert f"module key 'twin' is already offered by '{other}'" in message
    assert f"Plugin {error.plugin_name!r}" in message


def test_plugin_cannot_take_over_a_module_key_of_an_installed_plugin(site, startup_settings):
    site.add_plugin("impostor", GOOD_MODULE.format(key="notes"))

    error, message = start_up_error(startup_settings, **{"mypages.plugins.allow": "notes impostor"})

    other = ({"notes", "impostor"} - {error.plugin_name}).pop()
    assert f"module key 'notes' is already offered by '{other}'" in message


@pytest.mark.parametrize("key", ["Bad-Key", "9lives", "x", "with space"])
def test_plugin_offering_an_invalid_module_key_stops_start_up(site, startup_settings, key):
    site.add_plugin("sloppy", GOOD_MODULE.format(key=key))

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "sloppy"
    assert f"module key {key!r} is not lower-case letters, digits and underscores" in message


def test_denied_plugin_is_not_even_imported(site, startup_settings):
    site.add_plugin("crashing", '''
        raise RuntimeError("licence file missing")
    ''')

    app = main({}, **{**startup_settings, "mypages.plugins.deny": "crashing"})

    found = {info.name: info for info in app.registry["plugins.found"]}
    assert not found["crashing"].enabled
    assert found["crashing"].module is None
    app.registry["db.engine"].dispose()


def test_a_refusal_says_how_to_start_without_the_plugin(site, startup_settings):
    site.add_plugin("crashing", 'raise RuntimeError("licence file missing")\n')

    _error, message = start_up_error(startup_settings)

    assert message.endswith("To start without it, add crashing to mypages.plugins.deny "
                            "(and fix or uninstall it).")


ROUTE = '''
    mypages_hookspec = "2.0"

    def includeme(config):
        config.add_route({name!r}, "/{path}")
'''


def test_two_plugins_adding_one_route_name_stop_start_up_naming_both(site, startup_settings):
    site.add_plugin("first", ROUTE.format(name="contracts", path="first"))
    site.add_plugin("second", ROUTE.format(name="contracts", path="second"))

    error, message = start_up_error(startup_settings)

    assert error.plugin_name in {"first", "second"}
    other = ({"first", "second"} - {error.plugin_name}).pop()
    assert f"its route name 'contracts' is also added by plugin {other!r}" in message


def test_a_plugin_taking_a_route_name_of_the_core_stops_start_up(site, startup_settings):
    site.add_plugin("usurper", ROUTE.format(name="login", path="my-login"))

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "usurper"
    assert "its route name 'login' is also added by the core" in message


JOB = '''
    import datetime as dt

    from mypages.toolkit import PeriodicJob, hookimpl

    mypages_hookspec = "2.0"

    @hookimpl
    def mypages_jobs():
        return [PeriodicJob("tidy", lambda job: None, every=dt.timedelta(hours=1))]
'''


def test_two_plugins_registering_one_job_name_stop_start_up_naming_both(site, startup_settings):
    site.add_plugin("first", JOB)
    site.add_plugin("second", JOB)

    error, message = start_up_error(startup_settings)

    other = ({"first", "second"} - {error.plugin_name}).pop()
    assert f"job 'tidy' is already registered by {other!r}" in message


def test_one_plugin_name_claimed_by_two_distributions_names_both(site, startup_settings):
    site.add_plugin("twin", GOOD_MODULE.format(key="twin_one"), package="mypages_twin_one")
    site.add_plugin("twin", GOOD_MODULE.format(key="twin_two"), package="mypages_twin_two")

    error, message = start_up_error(startup_settings)

    assert error.plugin_name == "twin"
    assert "claimed by two distributions, 'mypages-twin-one' and 'mypages-twin-two'" in message
