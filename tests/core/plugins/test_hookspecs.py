"""The plugin contract itself: documented, prefixed, versioned."""
import inspect

import pytest

from mypages import hookspecs
from mypages.plugins import PluginError, check_compatibility
from mypages.testing.checks import hook_problems

SPECS = [(name, function) for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(function, "mypages_spec")]


def test_there_are_hookspecs():
    assert {"mypages_modules", "mypages_module_state_changed"} <= {name for name, _ in SPECS}


@pytest.mark.parametrize("name, function", SPECS, ids=[name for name, _ in SPECS])
def test_every_hookspec_is_prefixed_and_documented(name, function):
    assert name.startswith("mypages_")
    assert (function.__doc__ or "").strip(), f"{name} has no docstring: the docstring is its documentation"


@pytest.mark.parametrize("name, function", SPECS, ids=[name for name, _ in SPECS])
def test_every_hookspec_argument_is_documented(name, function):
    for argument in inspect.signature(function).parameters:
        assert f":param {argument}:" in function.__doc__, f"{name}: document {argument!r}"


@pytest.mark.parametrize("name, function", SPECS, ids=[name for name, _ in SPECS])
def test_every_deprecation_warns_as_mypages_and_is_documented(name, function):
    options = function.mypages_spec
    deprecated_arguments = options.get("warn_on_impl_args") or {}
    for warning in [options.get("warn_on_impl"), *deprecated_arguments.values()]:
        assert warning is None or isinstance(warning, hookspecs.MypagesDeprecationWarning)
    for argument in deprecated_arguments:
        assert f":param {argument}: deprecated since hookspec" in function.__doc__


def test_every_prefixed_function_is_a_hookspec():
    """A mypages_ function without @hookspec would be silently unknown to pluggy."""
    prefixed = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
                if name.startswith("mypages_")]
    assert prefixed == [name for name, _ in SPECS]


def test_hookspec_version_is_major_minor():
    version = hookspecs.HOOKSPEC_VERSION
    assert isinstance(version, tuple) and len(version) == 2
    assert all(isinstance(part, int) and part >= 0 for part in version)


class Plugin:
    def __init__(self, declared):
        self.mypages_hookspec = declared


def test_plugin_for_the_core_version_is_compatible():
    major, minor = hookspecs.HOOKSPEC_VERSION
    check_compatibility("current", Plugin(f"{major}.{minor}"))
    check_compatibility("older", Plugin(f"{major}.0"))


@pytest.mark.parametrize("shift", [(1, 0), (-1, 0), (0, 1)], ids=["next major", "older major", "newer minor"])
def test_plugin_for_another_major_or_a_newer_minor_is_refused(shift):
    major, minor = hookspecs.HOOKSPEC_VERSION
    declared = f"{major + shift[0]}.{minor + shift[1]}"
    with pytest.raises(PluginError) as refused:
        check_compatibility("elsewhere", Plugin(declared))
    assert refused.value.plugin_name == "elsewhere"
    assert f"written for hookspec {declared}" in str(refused.value)


# -- the check plugin authors run (mypages.testing.checks.hook_problems) -------------------

@pytest.mark.parametrize("plugin", ["notes", "sso_azure", "sso_google"])
def test_the_plugins_of_this_repository_fit_the_hookspecs(plugin):
    assert hook_problems(plugin) == []


def test_the_check_names_every_hook_that_does_not_fit(site):
    site.add_plugin("sloppy", '''
        from mypages.toolkit import hookimpl

        mypages_hookspec = "2.0"

        @hookimpl
        def mypages_modulez():
            return []
    ''')
    site.add_plugin("greedy", '''
        from mypages.toolkit import hookimpl

        mypages_hookspec = "2.0"

        @hookimpl
        def mypages_dashboard_cards(request, company, weather):
            return []
    ''')
    site.add_plugin("ancient", 'mypages_hookspec = "1.4"\n')

    [typo] = hook_problems("sloppy")
    [greedy] = hook_problems("greedy")
    [ancient] = hook_problems("ancient")

    assert typo.what == ("plugin 'sloppy': it implements 'mypages_modulez', which no hookspec "
                         "declares (a typo, or a hook of a newer mypages)")
    assert "weather" in greedy.what
    assert "it was written for hookspec 1.4" in ancient.what
    assert hook_problems("nosuch")[0].what == "no installed plugin is called 'nosuch'"
