"""The dashboard of a new company tells its admin what to do next, and how long each free
trial has left."""
from __future__ import annotations


import datetime as dt

import pytest
from sqlalchemy import select

from mypages.db import utcnow
from mypages.modules.models import ModuleActivation

from mypages.testing.plugin import enrol_two_factor


def steps(page) -> dict[str, bool]:
    """The next steps on the dashboard: key -> done."""
    card = page.html.find(id="next-steps")
    if card is None:
        return {}
    return {li["data-step"]: "done" in li.get("class", []) for li in card.find_all("li")}


@pytest.fixture
def new_company(factory):
    company = factory.company()
    admin = factory.user(company=company, role="admin", locale="en")
    return company, admin


def test_a_new_company_is_shown_its_next_steps_and_each_is_ticked_off(
        new_company, factory, signed_in, testapp, modules, dbsession):
    company, admin = new_company
    browser = signed_in(admin)
    page = browser.get(f"/c/{company.id}/")
    assert steps(page) == {"invite": False, "two-factor": False, "module": False}
    links = {li["data-step"]: li.find("a")["href"] for li in page.html.find(id="next-steps")("li")}
    assert links == {"invite": f"/c/{company.id}/settings/people",
                     "two-factor": "/account/two-factor",
                     "module": f"/c/{company.id}/settings/modules"}

    factory.user(company=company)  # somebody joined
    enrol_two_factor(browser)
    assert steps(browser.get(f"/c/{company.id}/")) == {"invite": True, "two-factor": True,
                                                      "module": False}
    modules.activate(company, "notes")
    # all done: the card is gone
    assert steps(browser.get(f"/c/{company.id}/")) == {}


def test_members_are_not_shown_an_admins_next_steps(new_company, factory, signed_in):
    company, _admin = new_company
    member = factory.user(company=company, locale="en")
    page = signed_in(member).get(f"/c/{company.id}/")
    assert page.html.find(id="next-steps") is None
    assert page.html.find(id="trials") is None


def test_the_dashboard_counts_down_the_days_of_each_trial(new_company, signed_in, modules,
                                                          dbsession):
    company, admin = new_company
    modules.activate(company, "notes")
    row = dbsession.scalars(select(ModuleActivation).where(
        ModuleActivation.company_id == company.id)).one()
    browser = signed_in(admin)
    for ends_in, shown in ((dt.timedelta(hours=20), "1 day left"),
                           (dt.timedelta(days=5, hours=3), "6 days left")):
        row.trial_ends_at = utcnow() + ends_in
        dbsession.commit()
        trial = browser.get(f"/c/{company.id}/").html.find(id="trials").find(
            "li", attrs={"data-module": "notes"})
        assert shown in trial.text
        assert trial.find("a")["href"] == f"/c/{company.id}/settings/modules/notes/buy"


def security(page) -> dict[str, str]:
    card = page.html.find(id="security-status")
    if card is None:
        return {}
    facts = dict(zip((dt_.text for dt_ in card("dt")), (dd.text for dd in card("dd"))))
    facts["count"] = card.find_next("p").text
    return facts


def test_the_admin_sees_the_companys_security_at_a_glance(new_company, factory, signed_in,
                                                          dbsession):
    company, admin = new_company
    browser = signed_in(admin)
    assert security(browser.get(f"/c/{company.id}/")) == {
        "Two-factor authentication": "Not required", "Single Sign On": "Not required",
        "count": "0 of 1 person has an authenticator app."}

    enrol_two_factor(browser)
    factory.user(company=company)
    factory.policy(company, require_mfa=True)
    page = browser.get(f"/c/{company.id}/")
    assert security(page) == {
        "Two-factor authentication": "Required of everyone", "Single Sign On": "Not required",
        "count": "1 of 2 people have an authenticator app."}
    assert page.html.find(id="security-status").find_next("a")["href"] == \
        f"/c/{company.id}/settings/security"


def test_members_do_not_see_the_security_card(new_company, factory, signed_in):
    company, _admin = new_company
    member = factory.user(company=company, locale="en")
    assert signed_in(member).get(f"/c/{company.id}/").html.find(id="security-status") is None
