"""A person's own data: downloaded from their account; and their account deleted at their
request (their companies' admins told, the last admin refused), their audit history kept
verifiable without their name, address or where they signed in from."""
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from mypages.accounts.models import User
from mypages.audit import chain as audit_chain
from mypages.audit.models import AuditEvent
from mypages.companies.models import Company
from mypages.db import utcnow
from mypages.governance.models import SecurityAlert
from mypages.inbox.models import Notification
from mypages.testing.plugin import csrf_token, enrol_two_factor, sign_in, work_as

from mypages_bankid.models import Identity


@pytest.fixture
def company(factory):
    company = factory.company("Own Data AB")
    factory.user("boss@owndata.example", company=company, role="admin", display_name="Bo Boss")
    factory.user("pia@owndata.example", company=company, display_name="Pia Person")
    return company


def test_a_person_downloads_their_own_data(testapp, company, dbsession):
    pia = dbsession.scalar(select(User).where(User.email == "pia@owndata.example"))
    dbsession.add(Identity(user_id=pia.id, personal_number="198112189876"))
    dbsession.commit()
    sign_in(testapp, "pia@owndata.example")
    page = testapp.get("/account").click(href="/account/data")
    download = page.click(href="/account/data.zip")
    assert download.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.body))
    account = json.loads(archive.read("account.json"))[0]
    assert account["email"] == "pia@owndata.example" and "password_hash" not in account
    assert [m["company"] for m in json.loads(archive.read("memberships.json"))] == [
        "Own Data AB"]
    sessions = json.loads(archive.read("sessions.json"))
    assert sessions and sessions[0]["ip"] == "127.0.0.1" and "id" not in sessions[0]
    events = json.loads(archive.read("audit_events.json"))
    assert "account.signed_in" in {event["action"] for event in events}
    assert "Pia Person" in archive.read("audit_events.csv").decode()
    # and what the plugins keep of her (mypages_user_export), each in its folder
    assert json.loads(archive.read("bankid/identity.json"))[0]["personal_number"] == \
        "198112189876"
    assert json.loads(archive.read("rates/alerts.json")) == []
    dbsession.expire_all()
    assert dbsession.scalar(select(AuditEvent).where(
        AuditEvent.action == "account.data_downloaded")) is not None


def test_a_person_deletes_their_account_and_the_admins_are_told(
        app, testapp, company, dbsession):
    pia = dbsession.scalar(select(User).where(User.email == "pia@owndata.example"))
    pia_id = pia.id
    with work_as(app, user=pia, company=company) as (work, info):
        work.audit("notes.created", company=info, target="a note by Pia Person")
    # what the watch raised about her, and about someone else
    for event, subject, words in (
            (1, "pia@owndata.example", "Pia Person signed in from a new device"),
            (2, "boss@owndata.example", "Boss signed in from a new device")):
        dbsession.add(SecurityAlert(
            rule="new_device_admin", chain_id=company.id, company_id=company.id,
            company_label=company.name, event_id=event, event_seq=event,
            action="account.signed_in",
            subject=subject, happened_at=utcnow(), raised_at=utcnow(), text={"text": words}))
    dbsession.commit()
    testapp.post("/login", {"csrf_token": csrf_token(testapp), "email": "pia@owndata.example",
                            "password": "not her password"}, status=(200, 400, 401, 429))
    sign_in(testapp, "pia@owndata.example")
    page = testapp.get("/account/data")
    form = page.forms["delete-account"]
    form["confirmation"] = "someone@else.example"
    refused = form.submit(status=400)
    assert "Type your e-mail address to confirm that" in refused.html.select_one(".error").text
    form = refused.forms["delete-account"]
    form["confirmation"] = "Pia@OwnData.example"
    assert form.submit().location.endswith("/login")
    testapp.get("/account", status=303)  # signed out

    dbsession.expire_all()
    assert dbsession.scalar(select(User).where(User.id == pia_id)) is None
    told = dbsession.scalars(select(Notification).where(
        Notification.kind == "privacy.account_deleted")).all()
    assert [n.user_id for n in told] == [
        dbsession.scalar(select(User.id).where(User.email == "boss@owndata.example"))]
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.chain_id == company.id)
                               .order_by(AuditEvent.seq)).all()
    text = json.dumps([[e.actor_label, e.target, e.ip, e.user_agent, e.details]
                       for e in events])
    assert "pia@owndata.example" not in text and "Pia Person" not in text
    theirs = [e for e in events if e.actor_id == pia_id]
    assert theirs and all((e.actor_label, e.ip) == ("[erased]", "") for e in theirs)
    # a wrong password typed for her: from where is hers too
    [failed] = [e for e in events if e.action == "account.sign_in_failed"]
    assert (failed.ip, failed.user_agent) == ("", "")
    assert [e.action for e in events][-2:] == ["audit.redacted", "account.deleted"]
    assert audit_chain.verify(dbsession)[1] == []
    alerts = dbsession.scalars(select(SecurityAlert).order_by(SecurityAlert.id)).all()
    assert [(alert.subject, alert.text["text"]) for alert in alerts] == [
        ("[erased]", "[erased] signed in from a new device"),
        ("boss@owndata.example", "Boss signed in from a new device")]


def test_the_last_admin_cannot_delete_their_account(testapp, company, dbsession):
    sign_in(testapp, "boss@owndata.example")
    page = testapp.get("/account/data")
    assert "delete-account" not in page.forms
    assert "last admin of Own Data AB" in page.text
    refused = testapp.post("/account/data", {
        "csrf_token": page.html.find("input", {"name": "csrf_token"})["value"]
        if page.html.find("input", {"name": "csrf_token"}) else "",
        "action": "delete", "confirmation": "boss@owndata.example"}, status=409,
        expect_errors=True)
    assert "last admin" in refused.text
    dbsession.expire_all()
    assert dbsession.scalar(select(User).where(User.email == "boss@owndata.example"))


def test_an_operator_erases_a_company_from_its_page_typing_its_number(
        testapp, factory, dbsession):
    company = factory.company("Doomed AB", org_number="556036-0793")
    company_id = company.id
    factory.user("doomed@doomed.example", company=company, role="admin")
    factory.user("ops@platform.example", is_operator=True)
    sign_in(testapp, "ops@platform.example")
    enrol_two_factor(testapp)
    page = testapp.get("/operator/").click("Doomed AB")
    form = page.forms["erase-form"]
    form["confirmation"] = "556036-0000"
    refused = form.submit(status=400)
    assert "exactly as shown" in refused.text
    dbsession.expire_all()
    assert dbsession.get(type(company), company.id) is not None
    form = refused.forms["erase-form"]
    form["confirmation"] = "5560360793"
    form["audit_reason"] = "the contract ended"
    done = form.submit().follow()
    assert "was erased" in done.text
    dbsession.expire_all()
    assert dbsession.scalar(select(Company).where(Company.id == company_id)) is None
    erased = dbsession.scalar(select(AuditEvent).where(AuditEvent.action == "company.erased"))
    assert erased.reason == "the contract ended"
    assert erased.actor_label.startswith("ops@platform.example")
    page = testapp.get("/operator/").click(href="/operator/erasures")
    assert [cell.text for cell in page.html.select("#erasures td")][::3] == ["556036-0793"]
    assert "ops@platform.example" in page.html.select_one("#erasures").text
