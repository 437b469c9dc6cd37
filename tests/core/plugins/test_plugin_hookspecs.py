"""A plugin publishes hooks of its own (``config.add_hookspecs``), another implements them, and
the first calls them through ``plugin_hooks``; implementations are checked as the core's are."""
import pytest
from pyramid.exceptions import ConfigurationError

from mypages import main
from mypages.plugins import PluginError
from mypages.toolkit import plugin_hooks

PUBLISHER = '''
    from mypages.toolkit import hookspec

    mypages_hookspec = "2.3"


    @hookspec
    def reminders_channels(company_id):
        """Return the name of a channel reminders of the company can go out by."""


    def includeme(config):
        config.add_hookspecs(__name__)  # a plugin keeps them in a module: ".hookspecs"
'''

IMPLEMENTER = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "2.3"


    @hookimpl{options}
    def {name}({arguments}):
        return "sms to company %s" % company_id
'''


def implementer(name="reminders_channels", arguments="company_id", options=""):
    return IMPLEMENTER.format(name=name, arguments=arguments, options=options)


def start_up_error(settings) -> PluginError:
    with pytest.raises(ConfigurationError) as refused:
        main({}, **settings)
    assert isinstance(refused.value, PluginError), refused.value
    return refused.value


def test_one_plugin_calls_the_hooks_another_implements(site, startup_settings):
    site.add_plugin("reminders", PUBLISHER)
    site.add_plugin("smsbridge", implementer())

    app = main({}, **startup_settings)

    assert plugin_hooks(app).reminders_channels(company_id=7) == ["sms to company 7"]
    assert plugin_hooks(app.registry) is app.registry["plugins.manager"].hook
    app.registry["db.engine"].dispose()


def test_an_implementation_that_does_not_fit_the_published_hook_stops_start_up(
        site, startup_settings):
    site.add_plugin("reminders", PUBLISHER)
    site.add_plugin("smsbridge", implementer(arguments="company_id, colour"))

    error = start_up_error(startup_settings)

    assert error.plugin_name == "smsbridge"
    assert "colour" in error.why


def test_a_hook_nobody_publishes_stops_start_up_as_before(site, startup_settings):
    site.add_plugin("reminders", PUBLISHER)
    site.add_plugin("smsbridge", implementer(name="reminders_channel"))  # a typo

    error = start_up_error(startup_settings)

    assert error.plugin_name == "smsbridge"
    assert "'reminders_channel', which no hookspec declares" in error.why


def test_an_optional_implementation_waits_for_a_publisher_that_is_not_there(
        site, startup_settings):
    site.add_plugin("reminders", PUBLISHER)
    site.add_plugin("smsbridge", implementer(options="(optionalhook=True)"))

    app = main({}, **{**startup_settings, "mypages.plugins.deny": "reminders"})

    assert not hasattr(plugin_hooks(app), "reminders_channels") or \
        plugin_hooks(app).reminders_channels.spec is None
    app.registry["db.engine"].dispose()


def test_a_plugin_cannot_publish_a_hook_in_the_cores_name(site, startup_settings):
    site.add_plugin("reminders", PUBLISHER.replace("reminders_channels", "mypages_channels"))

    error = start_up_error(startup_settings)

    assert "mypages_channels" in error.why and "are the core's" in error.why
