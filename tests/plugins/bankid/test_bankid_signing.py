"""Signing with BankID through the toolkit's signing service: a company whose policy says so
confirms a module purchase by signing the order; the signature, the OCSP response and the
completion data are kept with the signed text, and ``mypages bankid verify`` checks them for
real (signxml, cryptography's OCSP)."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from mypages.companies.models import Company
from mypages.modules.models import ModuleActivation, ModuleState, Order
from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import audit_actions, audit_events, sign_in
from mypages.toolkit import find_signature, utcnow
from mypages_bankid import identities
from mypages_bankid.fake import Outcome
from mypages_bankid.fake.evidence import ocsp_response
from mypages_bankid.models import Signature
from mypages_bankid.verify import load_authorities, verify

PNR = "199001011239"
OTHER_PNR = "198112189876"
PERSON = {"personalNumber": PNR, "name": "Astrid Admin", "givenName": "Astrid",
          "surname": "Admin"}


def entitle(dbsession, company):
    now = utcnow()
    dbsession.add(ModuleActivation(company_id=company.id, module_key="bankid",
                                   state=ModuleState.trial, trial_started_at=now,
                                   trial_ends_at=now + dt.timedelta(days=10), updated_at=now))
    dbsession.commit()


def link(app, dbsession, user, number=PNR):
    identities.link(dbsession, app.registry, user.id, number, utcnow(), confirmed=True)
    dbsession.commit()


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def actions(dbsession):
    dbsession.expire_all()
    return audit_actions(dbsession)


@pytest.fixture
def shop(bankid_app, factory, dbsession):
    """A company whose policy is to sign purchases, its admin with BankID linked, in the
    BankID module's trial; the admin's browser, signed in."""
    company = factory.company("Signerande AB")
    admin = factory.user(company=company, role="admin", locale="en")
    entitle(dbsession, company)
    link(bankid_app, dbsession, admin)
    dbsession.get(Company, company.id).sign_purchases = True
    dbsession.commit()
    return company, admin


def sign_in_with_bankid(web, fake, number=PNR):
    """Sign in with BankID (an admin with BankID linked needs it as the second factor)."""
    fake.script(Outcome(person=dict(PERSON, personalNumber=number)))
    order_page = web.get("/bankid/sign-in").forms["bankid-qr"].submit(status=303).follow()
    order_id = order_page.request.path.rsplit("/", 1)[-1]
    web.get(f"/bankid/order/{order_id}/status")
    web.post(f"/bankid/order/{order_id}/finish", {"csrf_token": csrf(order_page)}, status=303)


def buy(web, company, module="bankid"):
    """Confirm the purchase summary; with the policy, it leads to BankID's signing page."""
    page = web.get(f"/c/{company.id}/settings/modules/{module}/buy")
    [form] = [f for f in page.forms.values() if f.action.endswith(f"/{module}/buy")]
    return form.submit(expect_errors=True)


def sign(web, fake, sign_page, person=PERSON):
    """Sign on the signing page with the QR code, the phone approving as ``person``."""
    fake.script(Outcome(person=dict(person)))
    order_page = sign_page.forms["bankid-qr"].submit(status=303).follow()
    order_id = order_page.request.path.rsplit("/", 1)[-1]
    web.get(f"/bankid/order/{order_id}/status")
    return web.post(f"/bankid/order/{order_id}/finish", {"csrf_token": csrf(order_page)},
                    expect_errors=True), order_id


def test_a_company_that_requires_it_confirms_a_purchase_by_signing_with_bankid(
        bankid_app, browser, fake_bankid, dbsession, shop):
    company, admin = shop
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    to_sign = buy(web, company)
    assert to_sign.status_int == 303 and "/bankid/sign/" in to_sign.location
    sign_page = to_sign.follow()
    shown = sign_page.html.find(id="bankid-sign-text").text
    assert "# Order: BankID" in shown and "Signerande AB" in shown
    # nothing is bought before it is signed
    dbsession.expire_all()
    assert dbsession.scalars(select(Order)).all() == []

    finished, order_id = sign(web, fake_bankid, sign_page)
    [request] = [r for r in fake_bankid.requests if r["path"] == "sign"]
    body = request["body"]
    assert base64.b64decode(body["userVisibleData"]).decode() == shown
    assert body["userVisibleDataFormat"] == "simpleMarkdownV1"
    assert body["requirement"] == {"personalNumber": PNR}
    hidden = json.loads(base64.b64decode(body["userNonVisibleData"]))
    assert hidden["company_id"] == company.id and hidden["module"] == "bankid"

    assert finished.status_int == 303 and "signature=" in finished.location
    order_page = finished.follow(status=303).follow()
    signed = order_page.html.find(id="order-signed").text
    assert signed.startswith("Astrid Admin, ")
    dbsession.expire_all()
    order = dbsession.scalars(select(Order)).one()
    assert order.signed_by == "Astrid Admin" and order.signature_method == "bankid"
    row = dbsession.get(Signature, order.signature_reference)
    assert row.order_id == order_id and row.text == shown
    assert PNR in row.completion and PNR not in json.dumps(row.signature or "")
    trail = actions(dbsession)
    assert trail.index("bankid.signed") < trail.index("billing.purchase_signed")
    details = " ".join(json.dumps(e.details or {}) for e in audit_events(dbsession))
    assert PNR not in details

    # verified for real: the XML signature and the OCSP response
    authorities = load_authorities(bankid_app.registry.settings["bankid.signing_ca_file"])
    assert verify(row, authorities).valid


def test_a_signature_confirms_one_purchase_of_its_signer_only(
        bankid_app, browser, fake_bankid, factory, dbsession, shop):
    company, admin = shop
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    finished, _ = sign(web, fake_bankid, buy(web, company).follow())
    reference = re.search(r"signature=([\w-]+)", finished.location).group(1)
    other_admin = factory.user(company=company, role="admin", locale="en")
    other_web = browser()
    sign_in(other_web, other_admin.email)
    # another admin cannot use it, nor can it buy another module
    refused = other_web.get(f"/c/{company.id}/settings/modules/bankid/signed",
                            {"signature": reference}, status=400)
    assert "does not confirm this purchase" in refused.text
    web.get(f"/c/{company.id}/settings/modules/sso/signed", {"signature": reference},
            status=400)
    dbsession.expire_all()
    assert dbsession.scalars(select(Order)).all() == []
    web.get(finished.location, status=303)
    # and once used, never again
    web.get(finished.location, status=400)
    dbsession.expire_all()
    assert len(dbsession.scalars(select(Order)).all()) == 1


def test_only_the_admins_own_bankid_signs(bankid_app, browser, fake_bankid, dbsession, shop):
    company, admin = shop
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    finished, order_id = sign(web, fake_bankid, buy(web, company).follow(),
                              person=dict(PERSON, personalNumber=OTHER_PNR))
    assert finished.status_int == 400
    dbsession.expire_all()
    assert dbsession.scalars(select(Signature)).one().status == "pending"
    assert dbsession.scalars(select(Order)).all() == []


def test_without_a_linked_bankid_the_admin_is_told_to_link_it(
        bankid_app, browser, fake_bankid, factory, dbsession, shop):
    company, _ = shop
    admin = factory.user(company=company, role="admin", locale="en")
    web = browser()
    sign_in(web, admin.email)
    page = buy(web, company).follow()
    assert "Link BankID to your account first" in page.html.find(id="bankid-error").text
    assert page.html.find(id="bankid-choices") is None


def test_the_billing_tab_switches_the_policy(bankid_app, browser, factory, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin", locale="en")
    web = browser()
    sign_in(web, admin.email)
    form = web.get(f"/c/{company.id}/settings/billing").forms["purchase-policy-form"]
    form["sign_purchases"] = True
    form.submit(status=303)
    dbsession.expire_all()
    assert dbsession.get(Company, company.id).sign_purchases
    assert "billing.sign_purchases_changed" in actions(dbsession)
    # a company without a signer cannot buy, and is told why
    refused = buy(web, company, "sso")
    assert refused.status_int == 400 and "No way of signing" in refused.text


def test_the_toolkit_finds_a_signature_only_for_its_purpose_and_signer(
        bankid_app, browser, fake_bankid, dbsession, shop):
    company, admin = shop
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    finished, _ = sign(web, fake_bankid, buy(web, company).follow())
    reference = re.search(r"signature=([\w-]+)", finished.location).group(1)
    registry = bankid_app.registry
    found = find_signature(registry, dbsession, reference, purpose="billing.purchase",
                           user_id=admin.id)
    assert found.signer_name == "Astrid Admin" and found.method == "bankid"
    assert find_signature(registry, dbsession, reference, purpose="other",
                          user_id=admin.id) is None
    assert find_signature(registry, dbsession, reference, purpose="billing.purchase",
                          user_id=admin.id + 1) is None


def signed_row(bankid_app, browser, fake_bankid, dbsession, shop) -> Signature:
    company, admin = shop
    web = browser()
    sign_in_with_bankid(web, fake_bankid)
    sign(web, fake_bankid, buy(web, company).follow())
    dbsession.expire_all()
    return dbsession.scalars(select(Signature)).one()


def test_mypages_bankid_verify_checks_the_kept_evidence(
        bankid_app, browser, fake_bankid, dbsession, shop, bankid_site, monkeypatch):
    row = signed_row(bankid_app, browser, fake_bankid, dbsession, shop)
    monkeypatch.syspath_prepend(str(bankid_site))
    cli = OperatorCli(app=bankid_app)
    out = cli("bankid", "verify", row.order_id).stdout
    assert out.rstrip().endswith("valid") and "NOT VALID" not in out
    assert "OCSP: good" in out and "CN=Karl Karlsson" in out
    assert PNR not in out

    # the text kept is changed: the signature no longer matches it
    row.text = row.text.replace("BankID", "Something else")
    dbsession.commit()
    out = cli("bankid", "verify", row.id, status=1).stdout
    assert "the signed text is not the text kept" in out and "NOT VALID" in out
    cli("bankid", "verify", "no-such-order", status=2)


def test_verification_fails_on_a_forged_signature_or_ocsp_response(
        bankid_app, browser, fake_bankid, dbsession, shop, bankid_certificates):
    row = signed_row(bankid_app, browser, fake_bankid, dbsession, shop)
    authorities = load_authorities(bankid_certificates.signing_ca_file)
    assert verify(row, authorities).valid
    xml = base64.b64decode(row.signature)
    # the data inside the signature changed
    forged = re.sub(rb"<usrNonVisibleData>[^<]+", b"<usrNonVisibleData>"
                    + base64.b64encode(b'{"module": "sso"}'), xml)
    row.signature = base64.b64encode(forged).decode()
    assert "the XML signature is not valid" in " ".join(verify(row, authorities).problems)
    row.signature = base64.b64encode(xml).decode()
    # an authority nobody trusts
    assert not verify(row, load_authorities(bankid_certificates.rp_ca_file)).valid
    # an OCSP response about another certificate (the RP's own, issued by another authority)
    other = type("Other", (), {"person": bankid_certificates.rp,
                               "signing_ca": bankid_certificates.rp_ca})
    row.ocsp_response = base64.b64encode(ocsp_response(other, utcnow())).decode()
    problems = verify(row, authorities).problems
    assert "the OCSP response is about another certificate" in problems
    assert "the OCSP response is not signed by the certificate's issuer" in problems
    row.ocsp_response = base64.b64encode(b"not DER").decode()
    assert "the OCSP response cannot be read" in verify(row, authorities).problems


def test_the_development_fake_keeps_its_authority_so_signatures_verify_later(tmp_path):
    from mypages_bankid.fake import FakeCertificates
    from mypages_bankid.fake.evidence import signed_xml

    first = FakeCertificates(tmp_path, keep=True)
    row = Signature(status="complete", text="hej", data=b"", signed_at=utcnow(),
                    signature=base64.b64encode(signed_xml(first, {
                        "userVisibleData": base64.b64encode(b"hej").decode()}, "sign")).decode(),
                    ocsp_response=base64.b64encode(ocsp_response(first, utcnow())).decode())
    again = FakeCertificates(tmp_path, keep=True)  # the next run, or the command line
    assert again.signing_ca.certificate == first.signing_ca.certificate
    assert verify(row, load_authorities(again.signing_ca_file)).valid
    fresh = FakeCertificates(tmp_path / "other")
    assert not verify(row, load_authorities(fresh.signing_ca_file)).valid
