"""Per-company hook callers: only the plugins whose module a company is entitled to take part."""
from mypages.companies.models import Membership, Role
from mypages.hookspecs import hookimpl
from mypages.plugins import CompanyHookCallers, make_plugin_manager


def test_notes_tab_and_card_appear_only_for_the_entitled_company(
        factory, dbsession, signed_in, start_trial):
    entitled = factory.company()
    other = factory.company()
    admin = factory.user(company=entitled, role="admin")
    dbsession.add(Membership(company_id=other.id, user_id=admin.id, role=Role.admin))
    dbsession.commit()
    start_trial(entitled, "notes")
    web = signed_in(admin)

    def links(company):
        settings = web.get(f"/c/{company.id}/settings/modules").text
        dashboard = web.get(f"/c/{company.id}/").text
        return (f'href="/c/{company.id}/settings/notes"' in settings,
                f'href="/c/{company.id}/notes"' in dashboard)

    # (settings tab, dashboard card) of the same user in two companies
    assert links(entitled) == (True, True)
    assert links(other) == (False, False)


def test_notes_link_in_the_top_bar_for_the_members_of_the_entitled_company(
        factory, dbsession, signed_in, start_trial):
    entitled = factory.company()
    other = factory.company()
    member = factory.user(company=entitled, locale="en")
    dbsession.add(Membership(company_id=other.id, user_id=member.id, role=Role.member))
    dbsession.commit()
    start_trial(entitled, "notes")
    web = signed_in(member)

    def top_bar(path):
        return [(a.text, a["href"], a.get("aria-current"))
                for a in web.get(path).html.select("header nav a")[:2]]

    dashboard, notes = f"/c/{entitled.id}/", f"/c/{entitled.id}/notes"
    assert top_bar(dashboard) == [("Dashboard", dashboard, "page"), ("Notes", notes, None)]
    assert top_bar(notes) == [("Dashboard", dashboard, None), ("Notes", notes, "page")]
    other_dashboard = f"/c/{other.id}/"
    assert top_bar(other_dashboard)[1][0] == "Switch company"


class Alpha:
    @hookimpl
    def mypages_dashboard_cards(self, request, company):
        return ["alpha"]


class Beta:
    @hookimpl
    def mypages_dashboard_cards(self, request, company):
        return ["beta"]


class Everyone:
    """A plugin that offers no module is asked for every company."""

    @hookimpl
    def mypages_dashboard_cards(self, request, company):
        return ["everyone"]


def company_hook_callers():
    pm = make_plugin_manager()
    pm.register(Alpha(), name="alpha")
    pm.register(Beta(), name="beta")
    pm.register(Everyone(), name="everyone")
    return pm, CompanyHookCallers(pm, {"a": "alpha", "b": "beta"})


def cards(callers, entitled):
    results = callers.for_modules(frozenset(entitled)).mypages_dashboard_cards(
        request=None, company=None)
    return sorted(card for result in results for card in result)


def test_only_plugins_of_entitled_modules_answer():
    _pm, callers = company_hook_callers()

    assert cards(callers, set()) == ["everyone"]
    assert cards(callers, {"a"}) == ["alpha", "everyone"]
    assert cards(callers, {"b", "not-installed"}) == ["beta", "everyone"]
    assert cards(callers, {"a", "b"}) == ["alpha", "beta", "everyone"]


def test_same_set_of_modules_gets_the_same_cached_caller():
    pm, callers = company_hook_callers()

    only_a = callers.for_modules(frozenset({"a"})).mypages_dashboard_cards
    # a different set object, and an unknown key, leave the same plugins out
    assert callers.for_modules(frozenset({"a"})).mypages_dashboard_cards is only_a
    assert callers.for_modules(frozenset({"a", "unknown"})).mypages_dashboard_cards is only_a
    assert callers.for_modules(frozenset({"b"})).mypages_dashboard_cards is not only_a
    # nobody left out: the manager's own caller, no subset
    assert (callers.for_modules(frozenset({"a", "b"})).mypages_dashboard_cards.caller
            is pm.hook.mypages_dashboard_cards)
