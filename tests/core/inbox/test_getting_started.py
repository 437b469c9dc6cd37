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
