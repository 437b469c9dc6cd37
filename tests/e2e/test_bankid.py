"""BankID in a real browser: the portal under pserve talks over mutual TLS to the fake RP API
served by this test process, which plays the phone. The QR code changes every second, the
phone approves and the person lands signed in; a cancelled order shows RFA6; a company that
signs its purchases shows who signed the order."""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from mypages.testing.chromium import contexts, seed_company, serve_portal
from mypages_bankid.fake import P12_PASSWORD, FakeBankID, FakeCertificates
from mypages_bankid.qr import qr_content
from tests.e2e.steps import PASSWORD, sign_in

pytestmark = pytest.mark.e2e

PASSWORD_VARIABLE = "MYPAGES_E2E_BANKID_PASSWORD"
ADMIN_PNR, MEMBER_PNR = "199001011239", "198112189876"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    service = FakeBankID(FakeCertificates(tmp_path_factory.mktemp("bankid-certs"))).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def portal(tmp_path_factory, fake):
    """The portal with BankID configured against the fake; the seeded company has the BankID
    module, and no other."""
    os.environ[PASSWORD_VARIABLE] = P12_PASSWORD  # pserve inherits it
    certificates = fake.certificates
    with serve_portal(tmp_path_factory.mktemp("bankid-portal"),
                      seed=lambda url, ini: seed_company(url, ini, modules=["bankid"],
                                                         password=PASSWORD),
                      **{"bankid.environment": "test", "bankid.url": fake.url,
                         "bankid.ca_file": certificates.server_ca_file,
                         "bankid.certificate": certificates.rp_p12_file,
                         "bankid.certificate_password_env": PASSWORD_VARIABLE,
                         "bankid.signing_ca_file": certificates.signing_ca_file}) as server:
        yield server


@pytest.fixture
def page(browser, portal, fake):
    fake.reset()
    with contexts(browser, portal) as make:
        yield make(locale="en-GB").new_page()


def the_order(fake):
    [order] = fake.pending()
    return order


def phone_scans_and_approves(fake, number, name):
    order = the_order(fake)
    fake.scan(qr_content(order.qr_start_token, order.qr_start_secret,
                         int(fake.now() - order.created)))
    fake.approve(order.order_ref, {"personalNumber": number, "name": name,
                                   "givenName": name.split()[0], "surname": name.split()[-1]})


def link_bankid(page, fake, email, number, name):
    page.goto("/login")
    sign_in(page, email)
    page.goto("/bankid/account")
    page.locator("#bankid-qr button").click()
    expect(page.locator("#bankid-qr")).to_be_visible()
    phone_scans_and_approves(fake, number, name)
    page.wait_for_url(re.compile(r"/bankid/account$"), timeout=8000)
    expect(page.get_by_text(number[:8], exact=False).first).to_be_visible()


def test_the_qr_code_changes_every_second_and_the_approved_person_lands_signed_in(
        page, portal, fake):
    link_bankid(page, fake, portal.seeded.member_email, MEMBER_PNR, "Max Member")
    page.context.clear_cookies()

    page.goto("/bankid/sign-in")
    page.locator("#bankid-qr button").click()
    qr = page.locator("img#bankid-qr")
    expect(qr).to_be_visible()
    first = qr.get_attribute("src")
    assert first.startswith("data:image/svg+xml")
    # the page fetches the current code each second: a different image within two
    page.wait_for_function("first => document.getElementById('bankid-qr').src !== first",
                           arg=first, timeout=2500)
    second = qr.get_attribute("src")
    assert second != first and second.startswith("data:image/svg+xml")

    phone_scans_and_approves(fake, MEMBER_PNR, "Max Member")
    page.wait_for_url(lambda url: "/bankid/" not in url and "/login" not in url, timeout=8000)
    page.goto("/account")
    expect(page.get_by_text(portal.seeded.member_email).first).to_be_visible()


def test_a_cancelled_order_shows_rfa6(page, fake):
    page.goto("/bankid/sign-in")
    page.locator("#bankid-qr button").click()
    expect(page.locator("img#bankid-qr")).to_be_visible()
    fake.user_cancel(the_order(fake).order_ref)
    expect(page.locator("#bankid-message")).to_have_text("Action cancelled.", timeout=5000)
    expect(page.locator("img#bankid-qr")).to_have_count(0)
    expect(page.locator("#bankid-again")).to_be_visible()


def test_a_signed_purchase_shows_its_signer(page, portal, fake):
    seeded = portal.seeded
    link_bankid(page, fake, seeded.admin_email, ADMIN_PNR, "Ada Admin")
    page.goto(f"/c/{seeded.company_id}/settings/billing")
    page.get_by_label(re.compile("confirm every purchase by signing")).check()
    page.locator("#purchase-policy-form button").click()
    expect(page.get_by_label(re.compile("confirm every purchase by signing"))).to_be_checked()

    page.goto(f"/c/{seeded.company_id}/settings/modules/sso/buy")
    page.get_by_role("button", name="Confirm purchase").click()
    page.wait_for_url(re.compile(r"/bankid/sign/"))
    expect(page.locator("#bankid-sign-text")).to_contain_text("# Order:")
    page.locator("#bankid-qr button").click()
    expect(page.locator("img#bankid-qr")).to_be_visible()
    phone_scans_and_approves(fake, ADMIN_PNR, "Ada Admin")
    page.wait_for_url(re.compile(r"/settings/billing/orders/\d+$"), timeout=8000)
    expect(page.locator("#order-signed")).to_contain_text("Ada Admin")
    engine = create_engine(portal.database_url)
    with engine.connect() as connection:
        signed_by = connection.execute(text("SELECT signed_by FROM orders")).scalar_one()
    engine.dispose()
    assert signed_by == "Ada Admin"
