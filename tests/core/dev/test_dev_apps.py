"""Plugins' offline stand-ins (``mypages_dev_apps``) under ``/_dev/<name>/`` and their demo data
(``mypages_demo``), with development features only; the index lists every stand-in."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages import main
from mypages.accounts.models import User
from mypages.companies.models import Company, Membership
from mypages.plugins import PluginError
from mypages.testing.cli import OperatorCli

STAND_IN = '''
    from mypages.toolkit import DevApp, TranslationString, hookimpl

    mypages_hookspec = "2.3"

    def echo(url):
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [f"{url} {environ['PATH_INFO']}".encode()]
        return app

    def include(config):
        config.add_route("tides_page", "/page")
        config.add_view(lambda request: {"here": request.path}, route_name="tides_page",
                        renderer="json")

    @hookimpl
    def mypages_dev_apps():
        return [DevApp("tides", TranslationString("Tide feed, offline"),
                       TranslationString("Answers like the harbour office."), app=echo,
                       details=lambda request: [(TranslationString("Feed URL"),
                                                 "http://localhost/_dev/tides/feed")]),
                DevApp("tides-page", TranslationString("Tide page"),
                       TranslationString("A page."), include=include)]
'''


def dev_settings(**more) -> dict:
    return {"mypages.dev_features": "true", "mypages.environment": "development",
            "mypages.base_url": "http://localhost", **more}


def test_a_plugins_stand_in_is_mounted_and_listed(site, make_app):
    site.add_plugin("tides", STAND_IN)
    testapp = TestApp(make_app(**dev_settings()))

    assert testapp.get("/_dev/tides/feed/today").text == "http://localhost/_dev/tides /feed/today"
    assert testapp.get("/_dev/tides-page/page").json == {"here": "/_dev/tides-page/page"}
    testapp.get("/_dev/tides-page/other", status=404)
    index = testapp.get("/_dev/", headers={"Accept-Language": "en"})
    section = index.html.find(id="dev-tides")
    assert section.h2.text == "Tide feed, offline · /_dev/tides/"
    assert "Answers like the harbour office." in section.text
    assert [dd.text for dd in section.find_all("dd")] == ["http://localhost/_dev/tides/feed"]
    assert index.html.find(id="dev-tides-page") is not None
    assert index.html.find(id="dev-azure") is not None  # beside mypages-devtools' own


def test_without_development_features_no_stand_in_is_mounted(site, make_app):
    site.add_plugin("tides", STAND_IN)
    testapp = TestApp(make_app())

    for path in ("/_dev/", "/_dev/tides/feed", "/_dev/tides-page/page"):
        testapp.get(path, status=404)


@pytest.mark.parametrize("offer, why", [
    ('DevApp("Tides", "t", "d", app=lambda url: None)', "'Tides' is not one path segment"),
    ('DevApp("azure", "t", "d", app=lambda url: None)', "'azure' is offered by plugin"),
    ('DevApp("tides", "t", "d")', "'tides' needs exactly one of app and include"),
])
def test_a_bad_stand_in_stops_start_up_naming_the_plugin(site, startup_settings, offer, why):
    site.add_plugin("tides", f'''
        from mypages.toolkit import DevApp, hookimpl

        mypages_hookspec = "2.3"

        @hookimpl
        def mypages_dev_apps():
            return [{offer}]
    ''')

    with pytest.raises(PluginError) as refused:
        main({}, **{**startup_settings, **dev_settings()})

    assert why in str(refused.value)
    assert "'tides'" in str(refused.value)  # mypages-devtools offers "azure" as well


def test_demo_seeds_every_plugins_data_after_the_demo_company(site, make_app, dbsession):
    site.add_plugin("welcome", '''
        from mypages.toolkit import hookimpl

        mypages_hookspec = "2.3"

        @hookimpl(trylast=True)
        def mypages_demo(context):
            company = context.company("Demo AB")  # mypages-devtools made it already
            context.person("guest@demo.example", "Greta Guest", "guest-password", company=company)
            return [f"a guest at {company.name}"]
    ''')
    cli = OperatorCli(app=make_app(**dev_settings()))

    lines = cli("demo").stdout.splitlines()

    assert lines[0] == "devtools:" and lines[-2:] == ["welcome:", "  a guest at Demo AB"]
    members = select(User.email).join(Membership, Membership.user_id == User.id).join(
        Company, Company.id == Membership.company_id).where(Company.name == "Demo AB")
    assert "guest@demo.example" in dbsession.scalars(members).all()
    assert len(dbsession.scalars(select(Company)).all()) == 1
