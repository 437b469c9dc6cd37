"""The operator's allow/deny list (``mypages.plugins.allow`` / ``mypages.plugins.deny``)."""
from webtest import TestApp

from mypages import main
from mypages.testing.plugin import sign_in


def plugins_found(app) -> dict:
    return {info.name: info for info in app.registry["plugins.found"]}


def test_denied_plugin_loses_its_module_and_routes(make_app, testapp, factory, start_trial):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    start_trial(company, "notes")
    # the same company on the default app: the trial makes the notes page answer
    sign_in(testapp, admin.email)
    testapp.get(f"/c/{company.id}/notes", status=200)

    app = make_app(**{"mypages.plugins.deny": "notes"})
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(web, admin.email)

    assert app.registry["modules.catalogue"].get("notes") is None
    web.get(f"/c/{company.id}/notes", status=404)
    web.get(f"/c/{company.id}/settings/notes", status=404)
    assert 'id="module-notes"' not in web.get(f"/c/{company.id}/settings/modules").text
    # the activation row stays, yet nothing of the plugin reaches the pages
    assert f"/c/{company.id}/notes" not in web.get(f"/c/{company.id}/").text
    notes = plugins_found(app)["notes"]
    assert (notes.enabled, notes.reason) == (False, "denied by mypages.plugins.deny")


def test_cli_shows_a_denied_plugin_as_not_enabled_with_the_reason(cli_ini, run_cli):
    ini = cli_ini(deny="notes")

    plugins = {row["name"]: row for row in run_cli(ini, "plugins", "list")}
    modules = [row["key"] for row in run_cli(ini, "modules", "list")]

    assert plugins["notes"]["enabled"] is False
    assert plugins["notes"]["reason"] == "denied by mypages.plugins.deny"
    assert "notes" not in modules


def test_allow_list_enables_only_the_plugins_named(greeting_installed, startup_settings):
    app = main({}, **{**startup_settings, "mypages.plugins.allow": "greeting"})

    found = plugins_found(app)
    assert found["greeting"].enabled
    assert (found["notes"].enabled, found["notes"].reason) == (False, "not in mypages.plugins.allow")
    assert found["notes"].module is None
    catalogue = app.registry["modules.catalogue"]
    assert catalogue.get("greeting") is not None
    assert catalogue.get("notes") is None
    assert app.routes_mapper.get_route("notes") is None
    assert app.routes_mapper.get_route("greeting") is not None
    app.registry["db.engine"].dispose()


def test_cli_with_an_allow_list_lists_the_others_as_not_allowed(greeting_site, cli_ini, run_cli):
    ini = cli_ini(allow="greeting")

    plugins = {row["name"]: row for row in run_cli(ini, "plugins", "list", pythonpath=greeting_site)}
    modules = [row["key"] for row in run_cli(ini, "modules", "list", pythonpath=greeting_site)]

    assert plugins["greeting"]["enabled"] is True
    assert (plugins["notes"]["enabled"], plugins["notes"]["reason"]) == (
        False, "not in mypages.plugins.allow")
    assert "greeting" in modules
    assert "notes" not in modules


def test_deny_wins_over_allow(startup_settings):
    app = main({}, **{**startup_settings, "mypages.plugins.allow": "notes",
                      "mypages.plugins.deny": "notes"})

    notes = plugins_found(app)["notes"]
    assert (notes.enabled, notes.reason) == (False, "denied by mypages.plugins.deny")
    app.registry["db.engine"].dispose()
