"""BankID and company policy, linking from the account page, and the admins' pre-registration:
BankID counts as the second factor only in companies entitled to the BankID module, never
satisfies "Require Single Sign On from all", and a lapsed module offers the authenticator app
instead of locking anyone out."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from mypages.toolkit import utcnow
from mypages.testing.plugin import (audit_actions, audit_events, enrol_two_factor, sessions_of,
                                    sign_in)
from mypages_bankid import identities
from mypages_bankid.fake import Outcome

PNR = "199001011239"
COORDINATION = "199001611236"  # day 01 + 60


def link(app, dbsession, user, number=PNR, confirmed=True):
    identities.link(dbsession, app.registry, user.id, number, utcnow(), confirmed=confirmed)
    dbsession.commit()


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def identify(web, fake, page, device="qr", number=PNR):
    """Press the page's BankID button, let the phone approve as ``number``, finish."""
    fake.script(Outcome(person={"personalNumber": number, "name": "A B", "givenName": "A",
                                "surname": "B"}))
    order_page = page.forms[f"bankid-{device}"].submit(status=303).follow()
    order_id = order_page.request.path.rsplit("/", 1)[-1]
    web.get(f"/bankid/order/{order_id}/status")
    return web.post(f"/bankid/order/{order_id}/finish", {"csrf_token": csrf(order_page)},
                    expect_errors=True)


def sign_in_with_bankid(web, fake, next_url=""):
    return identify(web, fake, web.get("/bankid/sign-in", {"next": next_url} if next_url else {}))


def actions(dbsession):
    dbsession.expire_all()
    return audit_actions(dbsession)


def test_the_plugin_offers_the_module_and_the_method(bankid_app):
    module = bankid_app.registry["modules.catalogue"].modules["bankid"]
    assert module.trial_days == 10
    method = bankid_app.registry["accounts.login_methods"]["bankid"]
    assert method.is_mfa and not method.is_local and method.modules == ("bankid",)


def test_bankid_is_the_second_factor_only_where_the_module_is(bankid_app, browser, fake_bankid,
                                                              factory, dbsession, modules):
    entitled, other = factory.company("Med AB"), factory.company("Utan AB")
    user = factory.user(company=entitled)
    factory.membership(user, other)
    modules.on(bankid_app).activate(entitled, "bankid")
    for company in (entitled, other):
        factory.policy(company, require_mfa=True)
    link(bankid_app, dbsession, user)
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    web.get(f"/c/{entitled.id}/", status=200)  # BankID alone meets "require two-factor"
    refused = web.get(f"/c/{other.id}/", status=303)
    # not a lock-out: the authenticator app is offered where BankID does not count
    assert refused.location.startswith("http://localhost/account/two-factor?")


def test_a_lapsed_module_stops_bankid_counting_without_locking_anyone_out(
        bankid_app, browser, fake_bankid, factory, dbsession, modules):
    company = factory.company()
    user = factory.user(company=company)
    modules.on(bankid_app).activate(company, "bankid")
    factory.policy(company, require_mfa=True)
    link(bankid_app, dbsession, user)
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    web.get(f"/c/{company.id}/", status=200)

    modules.on(bankid_app).expire(company, "bankid")

    enrolment = web.get(f"/c/{company.id}/", status=303).follow(status=200)
    assert enrolment.html.find("input", attrs={"name": "action", "value": "begin"}) is not None
    enrol_two_factor(web)
    web.get(f"/c/{company.id}/", status=200)


def test_bankid_never_satisfies_require_single_sign_on_from_all(bankid_app, browser,
                                                                fake_bankid, factory, dbsession,
                                                                modules):
    company = factory.company()
    user = factory.user(company=company)
    modules.on(bankid_app).activate(company, "bankid")
    factory.policy(company, password_allowed=False)
    link(bankid_app, dbsession, user)
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    assert web.get(f"/c/{company.id}/", status=403)
    assert actions(dbsession)[-1] == "session.refused_by_policy"


def test_the_people_tab_shows_bankid_where_it_counts(bankid_app, browser, fake_bankid, factory,
                                                     dbsession, modules):
    entitled, other = factory.company("Med AB"), factory.company("Utan AB")
    admin = factory.user(company=entitled, role="admin", locale="en")
    factory.membership(admin, other, "admin")
    member = factory.user(company=entitled, locale="en")
    factory.membership(member, other)
    modules.on(bankid_app).activate(entitled, "bankid")
    link(bankid_app, dbsession, member)
    web = browser()
    sign_in(web, admin.email)

    def column(company):
        page = web.get(f"/c/{company.id}/settings/people")
        row = page.html.find("tr", attrs={"data-email": member.email})
        return [span["data-method"] for span in row.find_all("span", attrs={"data-method": True})]

    assert column(entitled) == ["bankid"]
    assert column(other) == []


def test_a_signed_in_person_links_bankid_and_sees_the_whole_number(
        bankid_app, browser, fake_bankid, factory, dbsession):
    user = factory.user()
    web = browser()
    sign_in(web, user.email)
    page = web.get("/bankid/account")
    done = identify(web, fake_bankid, page, number=COORDINATION)
    assert done.location == "http://localhost/bankid/account"
    assert done.follow().html.find(id="bankid-number").text == "19900161-1236"
    assert identities.has_bankid(dbsession, user.id)
    assert "bankid.linked" in actions(dbsession)
    stored = dbsession.execute(text("SELECT personal_number FROM bankid_identities")).scalar()
    assert COORDINATION not in stored  # encrypted at rest
    # and unlinks it, after proving it is them (a sensitive change)
    web.post("/bankid/unlink", {"csrf_token": csrf(web.get("/bankid/account"))}, status=303)
    assert not identities.has_bankid(dbsession, user.id)
    assert "bankid.unlinked" in actions(dbsession)


def test_a_personal_number_links_to_one_user_only(bankid_app, browser, fake_bankid, factory,
                                                  dbsession):
    owner, other = factory.user(), factory.user()
    link(bankid_app, dbsession, owner)
    web = browser()
    sign_in(web, other.email)
    page = identify(web, fake_bankid, web.get("/bankid/account"))
    assert page.status_int == 400
    assert "linked to another account" in page.text
    assert not identities.has_bankid(dbsession, other.id)


def test_the_second_step_with_another_persons_bankid_is_refused(bankid_app, browser, fake_bankid,
                                                            factory, dbsession):
    user = factory.user()
    link(bankid_app, dbsession, user)
    web = browser()
    # a password alone waits for the second step, which offers BankID
    verify = sign_in(web, user.email).follow(status=200)
    assert verify.html.find("li", attrs={"data-method": "bankid"}) is not None
    page = identify(web, fake_bankid, web.get("/bankid/step-up"), number="198112189876")
    assert "not the one linked to your account" in page.text
    assert sessions_of(dbsession, user) == []
    done = identify(web, fake_bankid, web.get("/bankid/step-up", {"next": "/account"}))
    assert done.location == "http://localhost/account"
    [session] = sessions_of(dbsession, user, open_only=True)
    assert set(session.amr) == {"pwd", "bankid"}


def test_an_admin_preregisters_a_member_masked_and_audited_without_the_number(
        bankid_app, browser, factory, dbsession, modules):
    company = factory.company()
    admin = factory.user(company=company, role="admin", locale="en")
    member = factory.user(company=company, locale="en")
    outsider = factory.user()
    modules.on(bankid_app).activate(company, "bankid")
    web = browser()
    sign_in(web, admin.email)
    tab = web.get(f"/c/{company.id}/settings/bankid")
    form = tab.forms[f"bankid-register-{member.id}"]
    form["personal_number"] = "19900101-1230"  # a wrong check digit
    assert "last digit is wrong" in form.submit(status=400).text
    form["personal_number"] = "19901301-1234"
    assert "date of birth" in form.submit(status=400).text
    form["personal_number"] = "19900101-1239"
    page = form.submit(status=303).follow()
    row = page.html.find("tr", attrs={"data-user": str(member.id)})
    assert "19900101-****" in row.text and PNR not in page.text
    assert "Waiting for the first BankID sign-in" in row.text
    assert not identities.has_bankid(dbsession, member.id)
    [event] = audit_events(dbsession, "bankid.registered")
    assert PNR not in json.dumps(event.details) and event.target == member.email
    # someone outside the company cannot be given a number
    web.post(f"/c/{company.id}/settings/bankid", {"csrf_token": csrf(page),
                                                  "user_id": outsider.id,
                                                  "personal_number": "198112189876"}, status=400)
    assert identities.identity_of(dbsession, outsider.id) is None


def test_the_tab_is_for_companies_entitled_to_the_module(bankid_app, browser, factory):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    web = browser()
    sign_in(web, admin.email)
    assert web.get(f"/c/{company.id}/settings/bankid", expect_errors=True).status_int in (
        403, 404)


@pytest.mark.parametrize("typed, valid", [
    ("199001011239", True), ("19900101-1239", True), ("199001611236", True),
    ("9001011239", False), ("199001011238", False), ("199002301234", False),
    ("299001011239", False), ("19900101123a", False)])
def test_personal_numbers_are_validated(typed, valid):
    from mypages_bankid.personal_numbers import InvalidPersonalNumber, validate

    if valid:
        assert len(validate(typed)) == 12
    else:
        with pytest.raises(InvalidPersonalNumber):
            validate(typed)
