"""BankID for operators: phone/auth for support calls from the operator pages (audited, the
personal number masked), the RP certificate's expiry on the operator status page, and the
daily e-mail to the operators 30 days before it expires, once per certificate."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from mypages.testing.plugin import audit_events, enrol_two_factor, sign_in
from mypages.toolkit import JobContext, Mailer, utcnow
from mypages_bankid import identities
from mypages_bankid.certificates import warn_of_expiry
from mypages_bankid.client import RpConfig
from mypages_bankid.fake import P12_PASSWORD, FakeCertificates, Outcome
from mypages_bankid.models import CertificateWarning, Order
from mypages_bankid.web import REGISTRY_KEY, BankIDService

PNR = "199001011239"
PERSON = {"personalNumber": PNR, "name": "Karin Kund", "givenName": "Karin",
          "surname": "Kund"}


class Recorder(Mailer):
    def __init__(self):
        self.sent = []

    def send(self, to, subject, body):
        self.sent.append((to, subject, body))


@pytest.fixture
def operator_web(bankid_app, browser, factory):
    operator = factory.user(is_operator=True, locale="en")
    web = browser()
    sign_in(web, operator.email)
    enrol_two_factor(web)  # operators need a second factor
    return web


def trail(dbsession):
    dbsession.expire_all()
    return audit_events(dbsession)


def test_an_operator_identifies_a_caller_with_phone_auth(
        bankid_app, operator_web, fake_bankid, factory, dbsession):
    customer = factory.user(email="karin@kund.example")
    identities.link(dbsession, bankid_app.registry, customer.id, PNR, utcnow(), confirmed=True)
    dbsession.commit()
    form = operator_web.get("/operator/bankid/phone").forms["bankid-phone-form"]
    form["personal_number"] = PNR
    fake_bankid.script(Outcome(person=dict(PERSON), pending=("userCallConfirm",)))
    started = form.submit(status=303)
    [call] = [r for r in fake_bankid.requests if r["path"] == "phone/auth"]
    assert call["body"] == {"personalNumber": PNR, "callInitiator": "user"}

    pending = started.follow()
    assert pending.headers["Refresh"] == "2"
    assert "1990-01-01" not in pending.text and "19900101-****" in pending.text
    order_id = started.location.rsplit("/", 1)[-1]
    dbsession.expire_all()
    dbsession.get(Order, order_id).collected_at -= dt.timedelta(seconds=3)
    dbsession.commit()
    done = operator_web.get(started.location)
    assert "Refresh" not in done.headers
    assert done.html.find(id="identified-name").text == "Karin Kund"
    assert done.html.find(id="identified-account").text == "karin@kund.example"
    events = trail(dbsession)
    identified = [e for e in events if e.action == "bankid.phone_identified"]
    assert identified and identified[0].details["personal_number"] == "19900101-****"
    assert "bankid.started" in [e.action for e in events]
    assert PNR not in " ".join(json.dumps(e.details or {}) for e in events)


def test_we_called_them_is_call_initiator_rp_and_bad_input_changes_nothing(
        bankid_app, operator_web, fake_bankid, dbsession):
    page = operator_web.get("/operator/bankid/phone")
    form = page.forms["bankid-phone-form"]
    form["personal_number"] = "199001011238"  # a wrong check digit
    refused = form.submit(status=400)
    assert refused.html.find(id="bankid-error")
    form = page.forms["bankid-phone-form"]
    form["personal_number"], form["call_initiator"] = PNR, "RP"
    form.submit(status=303)
    [call] = [r for r in fake_bankid.requests if r["path"] == "phone/auth"]
    assert call["body"]["callInitiator"] == "RP"
    bad = operator_web.post("/operator/bankid/phone", {
        "csrf_token": page.forms["bankid-phone-form"]["csrf_token"].value,
        "personal_number": PNR, "call_initiator": "someone"}, status=400)
    assert "Say who called whom." in bad.text
    assert len([r for r in fake_bankid.requests if r["path"] == "phone/auth"]) == 1


def test_only_operators_have_the_phone_page(bankid_app, browser, factory):
    web = browser()
    sign_in(web, factory.user().email)
    assert web.get("/operator/bankid/phone", expect_errors=True).status_int in (403, 404)


@pytest.fixture
def expiring(bankid_app, tmp_path, monkeypatch):
    """The app's RP certificate, expiring in ``days``."""
    def make(days):
        certificates = FakeCertificates(tmp_path / str(days), rp_not_after=utcnow()
                                        + dt.timedelta(days=days, hours=1))
        monkeypatch.setitem(bankid_app.registry, REGISTRY_KEY, BankIDService(RpConfig(
            "test", "https://localhost/", certificates.server_ca_file,
            certificates.rp_p12_file, password=P12_PASSWORD)))
        return certificates
    return make


def run_warning(bankid_app, dbsession, now=None):
    job = JobContext(dbsession, bankid_app.registry, now or utcnow(), {},
                     name="bankid.certificate_expiry")
    warn_of_expiry(job)
    dbsession.commit()


def test_the_operators_are_warned_30_days_before_once_per_certificate(
        bankid_app, factory, dbsession, expiring, replace_service):
    mails = replace_service(Mailer, Recorder(), target=bankid_app)
    operator = factory.user(is_operator=True, locale="sv")
    factory.user(email="kund@example.com")
    expiring(40)
    run_warning(bankid_app, dbsession)
    assert mails.sent == []
    expiring(29)
    run_warning(bankid_app, dbsession)
    [(to, subject, body)] = mails.sent
    assert to == operator.email and "BankID" in subject and "29" in body
    run_warning(bankid_app, dbsession)  # the next day: not again
    assert len(mails.sent) == 1
    expiring(20)  # a new certificate, also near its end: warned of afresh
    run_warning(bankid_app, dbsession)
    assert len(mails.sent) == 2
    assert len(dbsession.scalars(select(CertificateWarning)).all()) == 2
    assert [e.action for e in trail(dbsession)].count("bankid.certificate_warning") == 2


@pytest.mark.parametrize("language, days, subject, shown", [
    ("sv", 1, "RP-certifikatet för BankID går ut", "om 1 dag. Därefter kan ingen logga in"),
    ("sv", 2, "RP-certifikatet för BankID går ut", "om 2 dagar. Därefter kan ingen logga in"),
    ("en", 1, "The BankID RP certificate expires on", "in 1 day. After that, nobody"),
    ("en", 2, "The BankID RP certificate expires on", "in 2 days. After that, nobody"),
])
def test_the_warning_counts_the_days_left_in_the_operators_plural_form(
        bankid_app, factory, dbsession, expiring, replace_service, language, days, subject,
        shown):
    mails = replace_service(Mailer, Recorder(), target=bankid_app)
    factory.user(is_operator=True, locale=language)
    expiring(days)
    run_warning(bankid_app, dbsession)
    [(_to, sent_subject, body)] = mails.sent
    assert sent_subject.startswith(subject) and shown in body


def test_the_operator_status_page_shows_the_certificates_expiry(
        bankid_app, operator_web, expiring):
    certificates = expiring(12)
    page = operator_web.get("/operator/")
    row = page.html.find("tr", attrs={"data-check": "bankid.certificate"})
    assert row["data-status"] == "warn"
    expires = certificates.rp.certificate.not_valid_after_utc.date().isoformat()
    assert "certificate: 12." in row.text and expires in row.text
