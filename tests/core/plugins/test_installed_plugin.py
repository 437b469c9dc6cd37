"""A plugin from a separate distribution, installed with pip, is found and used.

The greeting plugin (tests/fixtures/mypages-greeting) is not part of this
repository's packages: it is only reachable through the folder pip installed
it into, so everything below works through its entry point alone.
"""
from pathlib import Path

from sqlalchemy import select, update
from webtest import TestApp

from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.jobs import Worker
from mypages.modules.models import ModuleActivation
from mypages.testing.plugin import csrf_token, sign_in

GREETING_PLUGIN_ROW = {
    "name": "greeting",
    "distribution": "mypages-greeting",
    "version": "0.4.0",
    "module": "mypages_greeting",
    "enabled": True,
    "reason": "",
    "status": "ok",
    "modules": ["greeting"],
    "hooks": ["mypages_dashboard_cards", "mypages_module_state_changed", "mypages_modules"],
}
GREETING_MODULE_ROW = {"key": "greeting", "title": "Greeting", "trial_days": 3, "price": "",
                       "plugin": "greeting"}


def test_cli_lists_the_installed_plugin_and_its_module(greeting_site, cli_ini, run_cli):
    ini = cli_ini()

    plugins = run_cli(ini, "plugins", "list", pythonpath=greeting_site)
    modules = run_cli(ini, "modules", "list", pythonpath=greeting_site)

    assert GREETING_PLUGIN_ROW in plugins
    assert GREETING_MODULE_ROW in modules


def test_cli_does_not_list_the_plugin_when_it_is_not_installed(cli_ini, run_cli):
    ini = cli_ini()

    assert "greeting" not in [row["name"] for row in run_cli(ini, "plugins", "list")]
    assert "greeting" not in [row["key"] for row in run_cli(ini, "modules", "list")]


def test_installed_plugin_serves_its_view_and_card_once_the_module_is_active(
        greeting_installed, make_app, factory):
    import mypages_greeting

    assert Path(mypages_greeting.__file__).is_relative_to(greeting_installed)
    app = make_app()
    found = {info.name: info for info in app.registry["plugins.found"]}
    assert (found["greeting"].distribution, found["greeting"].version) == ("mypages-greeting", "0.4.0")
    assert app.registry["modules.catalogue"].owners["greeting"] == "greeting"

    company = factory.company()
    admin = factory.user(company=company, role="admin")
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(web, admin.email)
    greeting_url = f"/c/{company.id}/greeting"

    # the module= predicate hides the plugin's view until the company is entitled
    web.get(greeting_url, status=404)
    assert "Greeting card" not in web.get(f"/c/{company.id}/").text

    web.post(f"/c/{company.id}/settings/modules/greeting/activate",
             {"csrf_token": csrf_token(web, f"/c/{company.id}/")}, status=303)

    assert web.get(greeting_url).text == f"Hello from the greeting plugin, {company.name}!"
    dashboard = web.get(f"/c/{company.id}/").text
    assert "Greeting card" in dashboard
    assert f'href="{greeting_url}"' in dashboard


def test_installed_plugin_hears_its_module_change_from_a_request_and_from_a_job(
        greeting_installed, make_app, factory, dbsession):
    app = make_app()
    company = factory.company()
    admin = factory.user(company=company, role="admin", display_name="Greta Admin")
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(web, admin.email)
    web.post(f"/c/{company.id}/settings/modules/greeting/activate",
             {"csrf_token": csrf_token(web, f"/c/{company.id}/")}, status=303)
    dbsession.execute(update(ModuleActivation).values(trial_ends_at=utcnow()))
    dbsession.commit()

    Worker(app.registry).run_periodic()

    heard = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "greeting.state_changed")
                              .order_by(AuditEvent.id)).all()
    assert [(event.company_id, event.actor_id, event.target, event.details) for event in heard] == [
        (company.id, admin.id, company.name, {"state": "trial", "by": "Greta Admin"}),
        (company.id, None, company.name, {"state": "expired", "by": ""}),
    ]
