"""A plugin that raises in a company hook (settings tabs, dashboard cards, navigation) loses
its own contribution for that request, logged with its name and audited; every page of the
company renders with everything else, and the company can still deactivate the plugin's
module (mypages.plugins.CompanyHook)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.audit.models import AuditEvent
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.plugins import FailureAudits, PluginError
from mypages.testing.plugin import csrf_token, new_browser, sign_in

COMPANY_HOOKS = ("mypages_company_settings_tabs", "mypages_dashboard_cards",
                 "mypages_navigation")

#: a module whose every company hook raises, with a message that must go nowhere but the log
RAISING = '''
    from mypages.toolkit import Module, TranslationString, hookimpl

    mypages_hookspec = "2.3"

    @hookimpl
    def mypages_modules():
        return [Module("boom", TranslationString("Boom"), TranslationString("It fails."))]

    @hookimpl
    def mypages_company_settings_tabs(request, company):
        raise RuntimeError("api-key=s3cr3t in the tabs")

    @hookimpl
    def mypages_dashboard_cards(request, company):
        raise RuntimeError("api-key=s3cr3t in the cards")

    @hookimpl
    def mypages_navigation(request, company):
        raise RuntimeError("api-key=s3cr3t in the navigation")
'''

#: a module whose company hooks fail in the database (a table its migrations never made),
#: asked before the other plugins
FAILING_IN_THE_DATABASE = '''
    from sqlalchemy import text
    from mypages.toolkit import Module, TranslationString, hookimpl

    mypages_hookspec = "2.3"

    def _count(request):
        return request.dbsession.execute(text("SELECT count(*) FROM boom_never_made")).scalar()

    @hookimpl
    def mypages_modules():
        return [Module("boom", TranslationString("Boom"), TranslationString("It fails."))]

    @hookimpl(tryfirst=True)
    def mypages_company_settings_tabs(request, company):
        return [_count(request)]

    @hookimpl(tryfirst=True)
    def mypages_dashboard_cards(request, company):
        return [_count(request)]

    @hookimpl(tryfirst=True)
    def mypages_navigation(request, company):
        return [_count(request)]
'''

#: a plugin without a module (asked for every company) that reads the database after the
#: others: its link shows that the request's transaction still works
READING_LAST = '''
    from sqlalchemy import text
    from mypages.toolkit import DashboardCard, NavigationItem, TranslationString, hookimpl

    mypages_hookspec = "2.3"

    def _read(request):
        return request.dbsession.execute(text("SELECT count(*) FROM companies")).scalar()

    @hookimpl(trylast=True)
    def mypages_dashboard_cards(request, company):
        return [DashboardCard(TranslationString("Read ${n}", mapping={"n": _read(request)}),
                              route_name="dashboard")]

    @hookimpl(trylast=True)
    def mypages_navigation(request, company):
        return [NavigationItem(TranslationString("Read ${n}", mapping={"n": _read(request)}),
                               "dashboard", order=900)]
'''


@pytest.fixture
def world(site, make_app, factory, start_trial):
    """``world(plugin_source, **others)``: the app with the plugin installed as ``boom`` (and
    the others by name), a company trying both notes and boom, and its admin signed in."""
    def make(source, **others):
        site.add_plugin("boom", source)
        for name, other in others.items():
            site.add_plugin(name, other)
        app = make_app()
        company = factory.company(name="Trasig AB")
        admin = factory.user(company=company, role="admin", locale="en")
        start_trial(company, "notes")
        start_trial(company, "boom")
        web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
        sign_in(web, admin.email)
        return web, company, admin
    return make


def failures(dbsession, company) -> list[tuple]:
    return sorted((event.target, event.details["hook"], event.details["error"])
                  for event in dbsession.scalars(select(AuditEvent).where(
                      AuditEvent.company_id == company.id,
                      AuditEvent.action == "plugin.hook_failed")))


def notes_shown(page, company) -> dict:
    """Where the notes plugin's contributions appear on a page."""
    html = page.html
    return {
        "navigation": [(a.text, a.get("aria-current")) for a in html.select(
            f'header nav a[href="/c/{company.id}/notes"]')],
        "tab": bool(html.select(f'nav.tabs a[href="/c/{company.id}/settings/notes"]')),
    }


def test_a_plugin_raising_in_every_company_hook_takes_no_page_down(world, dbsession, caplog):
    web, company, admin = world(RAISING)
    base = f"/c/{company.id}"

    dashboard = web.get(f"{base}/", status=200)
    assert [card.text for card in dashboard.html.select(".card h2 a")] == ["Notes"]
    assert notes_shown(dashboard, company)["navigation"] == [("Notes", None)]

    modules = web.get(f"{base}/settings/modules", status=200)
    assert modules.html.select_one("#module-boom") is not None
    assert notes_shown(modules, company) == {"navigation": [("Notes", None)], "tab": True}
    tabs = [a.text for a in modules.html.select("nav.tabs a")]
    assert tabs == ["Company", "Modules", "Billing", "People", "Security", "API", "Audit trail",
                    "Data", "Notes"]

    for path in ("/settings/company", "/settings/people", "/settings/notes"):
        settings = web.get(f"{base}{path}", status=200)
        assert notes_shown(settings, company)["tab"]

    notes = web.get(f"{base}/notes", status=200)
    assert notes_shown(notes, company)["navigation"] == [("Notes", "page")]

    # failures of the same hook in one request are audited once per request
    assert {failure[:2] for failure in failures(dbsession, company)} == {
        ("boom", hook) for hook in COMPANY_HOOKS}
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "plugin.hook_failed")).first()
    assert (event.actor_id, event.details["error"]) == (admin.id, "RuntimeError")
    assert "s3cr3t" not in str([(e.target, e.details) for e in dbsession.scalars(
        select(AuditEvent))])
    for hook in COMPANY_HOOKS:
        assert f"plugin boom failed in {hook}" in caplog.text

    # the company turns the broken module off; its hooks are then asked no more
    web.post(f"{base}/settings/modules/boom/deactivate",
             {"csrf_token": csrf_token(web, f"{base}/settings/modules")}, status=303)
    activation = dbsession.scalars(select(ModuleActivation).where(
        ModuleActivation.company_id == company.id,
        ModuleActivation.module_key == "boom")).one()
    assert activation.state == ModuleState.inactive
    before = len(failures(dbsession, company))
    web.get(f"{base}/", status=200)
    web.get(f"{base}/settings/modules", status=200)
    assert len(failures(dbsession, company)) == before


def test_a_broken_plugin_is_audited_once_an_hour_per_company_not_on_every_page(
        world, dbsession, factory, start_trial, clock):
    web, company, _admin = world(RAISING)
    for _ in range(3):
        web.get(f"/c/{company.id}/", status=200)
    seen = Counter(failure[:2] for failure in failures(dbsession, company))
    assert seen and set(seen.values()) == {1}, seen

    # another company's trail gets its own
    other = factory.company(name="Annan AB")
    start_trial(other, "boom")
    stranger = new_browser(web.app, ip="192.0.2.7")
    sign_in(stranger, factory.user(company=other, role="admin").email)
    stranger.get(f"/c/{other.id}/", status=200)
    assert Counter(failure[:2] for failure in failures(dbsession, other)) == seen

    clock.shift(minutes=59)
    web.get(f"/c/{company.id}/", status=200)
    assert Counter(failure[:2] for failure in failures(dbsession, company)) == seen
    clock.shift(minutes=2)
    web.get(f"/c/{company.id}/", status=200)
    assert Counter(failure[:2] for failure in failures(dbsession, company)) == {
        key: 2 for key in seen}


def test_a_plugin_whose_queries_fail_takes_no_page_down(world, dbsession):
    """On PostgreSQL a failed statement spoils the rest of the transaction: the page reads
    on all the same (a savepoint, or a fresh transaction where the plugin opened it)."""
    web, company, _admin = world(FAILING_IN_THE_DATABASE, reader=READING_LAST)
    base = f"/c/{company.id}"

    # the dashboard's hooks are asked before anything opened the request's session
    dashboard = web.get(f"{base}/", status=200)
    assert [card.text for card in dashboard.html.select(".card h2 a")] == ["Notes", "Read 1"]
    # the modules page and the notes page have read before their links are asked for
    for path in ("/settings/modules", "/notes"):
        page = web.get(f"{base}{path}", status=200)
        assert [a.text for a in page.html.select("header nav a")][1:3] == ["Notes", "Read 1"]
    modules = web.get(f"{base}/settings/modules", status=200)
    assert notes_shown(modules, company) == {"navigation": [("Notes", None)], "tab": True}

    assert {failure[:2] for failure in failures(dbsession, company)} == {
        ("boom", hook) for hook in COMPANY_HOOKS}
    web.post(f"{base}/settings/modules/boom/deactivate",
             {"csrf_token": csrf_token(web, f"{base}/settings/modules")}, status=303)


WRAPPING = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "2.3"

    @hookimpl(wrapper=True)
    def mypages_navigation(request, company):
        return (yield)
'''


def test_a_company_hook_with_a_wrapper_stops_start_up(site, make_app):
    """Company hooks are called implementation by implementation: a wrapper could not wrap."""
    site.add_plugin("wrapping", WRAPPING)
    with pytest.raises(PluginError, match="Plugin 'wrapping' cannot be loaded: "
                                          "mypages_navigation .* takes no wrappers"):
        make_app()


def test_what_could_not_be_audited_is_audited_next_time_and_old_failures_are_forgotten():
    audits, key = FailureAudits(), ("boom", "mypages_navigation", 1, "RuntimeError")
    start = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    assert audits.due(key, start) and not audits.due(key, start)
    audits.forget(key)  # its audit event could not be written
    assert audits.due(key, start + dt.timedelta(seconds=1))

    audits.KEEP = 3
    for company in range(2, 4):
        audits.due(("boom", "mypages_navigation", company, "RuntimeError"), start)
    later = start + FailureAudits.EVERY + dt.timedelta(seconds=2)
    assert audits.due(("boom", "mypages_navigation", 9, "RuntimeError"), later)
    assert len(audits._last) == 1  # the three of an hour ago made room
