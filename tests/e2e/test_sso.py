"""A company admin connects Microsoft Entra ID and requires Single Sign On from all, in a real
browser, against the Entra ID-style identity provider the development server serves under
/_dev/azure (the same one `make run` offers); its domain is proven through a real DNS server."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mypages.accounts.models import TotpCredential
from mypages.companies.models import Company
from mypages.db import utcnow
from mypages.i18n import LANGUAGES
from mypages.policy.models import BreakGlassAdmin
from mypages.testing.factories import make_user
from tests.e2e.steps import (PASSWORD, PHONE, card, choose_language, has_horizontal_scroll, html_lang,
                             sign_in, sign_in_with_email_only)

pytestmark = pytest.mark.e2e

DOMAIN = "acme.example"


def what_to_type(page, provider: str) -> dict:
    """The development page's settings for ``provider``: label -> value."""
    section = page.get_by_role("region", name=re.compile(re.escape(provider)))
    terms = section.get_by_role("term").all_inner_texts()
    definitions = section.get_by_role("definition").all_inner_texts()
    return dict(zip(terms, definitions))


def test_without_development_features_there_is_no_dev_mount(live_server, page):
    for path in ("/_dev/", "/_dev/azure/.well-known/openid-configuration", "/_dev/saml/metadata",
                 "/_dev/google/token"):
        assert page.request.get(path).status == 404, path
        assert page.request.post(path).status == 404, path


def test_the_development_page_fits_a_phone_and_loads_nothing_from_elsewhere(make_dev_context,
                                                                            shot):
    browser = make_dev_context(viewport=PHONE)
    page = browser.new_page()
    page.goto("/_dev/")
    for code in LANGUAGES:
        choose_language(page, code)
        assert html_lang(page) == code
        expect(page.locator("#dev-saml")).to_be_visible()
        assert not has_horizontal_scroll(page), f"/_dev/ scrolls sideways in {code}"
    shot(page, "dev-page-phone")
    assert browser.foreign_requests() == []


def add_break_glass_admin(server) -> None:
    """A second admin of the seeded company, a break-glass admin with an authenticator app."""
    engine = create_engine(server.database_url)
    try:
        with Session(engine) as session:
            company = session.get(Company, server.seeded.company_id)
            keeper = make_user(session, "keeper@acme.example", password=PASSWORD,
                               company=company, role="admin", display_name="Kim Keeper")
            session.add(BreakGlassAdmin(company_id=company.id, user_id=keeper.id))
            # only that it is set up counts here; nobody signs in with it
            session.add(TotpCredential(user_id=keeper.id, secret_encrypted="unused",
                                       confirmed_at=utcnow(), last_used_step=0))
            session.commit()
    finally:
        engine.dispose()


def test_admin_requires_entra_id_from_all_and_members_sign_in_through_it(
        dev_server, dev_dns, make_dev_context, shot):
    seeded = dev_server.seeded
    company_path = f"/c/{seeded.company_id}"
    admin_browser = make_dev_context()
    page = admin_browser.new_page()

    # The development page says what to type for the offline Entra ID.
    page.goto("/_dev/")
    choose_language(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Offline stand-ins")
    entra = what_to_type(page, "Microsoft Entra ID")
    assert entra["Identity provider"] == "Microsoft Entra ID"
    assert entra["Authority"] == f"{dev_server.url}/_dev/azure"
    shot(page, "dev-page")

    page.goto("/login")
    sign_in(page, seeded.admin_email)
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/$"))
    shot(page, "admin-dashboard")

    # Company settings -> Modules: the trial of Single Sign On.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Company settings").click()
    tabs = page.get_by_role("navigation", name="Company settings")
    tabs.get_by_role("link", name="Modules").click()
    expect(tabs.get_by_role("link", name="Single Sign On")).to_have_count(0)
    shot(page, "modules")
    card(page, "Single Sign On").get_by_role("button", name="Activate free trial").click()
    expect(page.get_by_role("status")).to_have_text("The free trial has started.")
    shot(page, "modules-sso-trial")

    # The tab appears; choose Microsoft Entra ID over OpenID Connect.
    tabs.get_by_role("link", name="Single Sign On").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/settings/sso$"))
    expect(tabs.get_by_role("link", name="Single Sign On")).to_have_attribute("aria-current", "page")
    shot(page, "sso-tab-empty")
    page.get_by_label("Identity provider").select_option(label="Microsoft Entra ID")
    page.get_by_label("Protocol").select_option(label="OpenID Connect")
    page.get_by_role("button", name="Show the settings").click()
    expect(page.get_by_text(f"{dev_server.url}/sso/oidc/callback")).to_be_visible()
    for label in ("Directory (tenant) ID", "Application (client) ID", "Client secret", "Authority"):
        page.get_by_label(label, exact=True).fill(entra[label])
    shot(page, "sso-entra-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(
        "The connection is saved. Test it before you require it from all.")
    # not before an admin has signed in through it
    require = page.get_by_role("button", name="Require Single Sign On from all")
    expect(require).to_be_disabled()
    shot(page, "sso-saved")

    # The company proves its mail domain with a TXT record in DNS.
    domains = card(page, "Verified domains")
    domains.get_by_label("Domain").fill(DOMAIN)
    domains.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Add the TXT record shown below to {DOMAIN}, then press Verify.")
    claimed = card(page, "Verified domains").get_by_role("listitem").filter(has_text=DOMAIN)
    record_name = claimed.get_by_text(re.compile(r"^_mypages-verification\.")).inner_text()
    record_value = claimed.get_by_text(re.compile(r"^mypages-verification=")).inner_text()
    shot(page, "domain-claimed")
    dev_dns.add_txt(record_name, record_value)
    claimed.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_have_text(f"{DOMAIN} is verified.")
    shot(page, "domain-verified")

    # Test the connection: through the identity provider and back, signed in through it.
    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_role("status")).to_have_text(
        "The connection works: you signed in through Single Sign On.")
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/settings/sso$"))
    authorize = f"{dev_server.url}/_dev/azure/{entra['Directory (tenant) ID']}/oauth2/v2.0/authorize?"
    assert any(url.startswith(authorize) for url in admin_browser.requested)
    shot(page, "sso-tested")

    # not before the company has a break-glass admin with a second factor, and the page says why
    expect(page.locator("#require-all-needs-break-glass")).to_contain_text("break-glass admin")
    add_break_glass_admin(dev_server)
    page.reload()
    expect(page.locator("#require-all-needs-break-glass")).to_have_count(0)
    # it asks first, in a dialog
    page.get_by_role("link", name="Require Single Sign On from all").click()
    dialog = page.get_by_role("dialog", name="Require Single Sign On from all?")
    expect(dialog).to_be_visible()
    shot(page, "sso-require-dialog")
    dialog.get_by_role("button", name="Require Single Sign On from all").click()
    expect(page.get_by_role("status")).to_have_text(
        "Single Sign On is now required from all. Password sign-in is closed for your people, "
        "except the break-glass admins.")
    expect(page.get_by_role("button", name="Stop requiring Single Sign On")).to_be_visible()
    shot(page, "sso-required")
    assert admin_browser.foreign_requests() == []

    # A member: the e-mail address alone sends them through the identity provider and in,
    # never to a password step.
    member_browser = make_dev_context()
    member = member_browser.new_page()
    member.goto("/login")
    choose_language(member, "en")
    sign_in_with_email_only(member, seeded.member_email)
    expect(member).to_have_url(re.compile(rf"{re.escape(company_path)}/$"))
    expect(member.get_by_role("heading", level=1)).to_have_text(seeded.company_name)
    # the language chosen before signing in stays, as with a password
    assert html_lang(member) == "en"
    expect(member.get_by_role("navigation", name="Main").get_by_role("link", name="Max Member")
           ).to_be_visible()
    assert any(url.startswith(authorize) and "login_hint=member%40acme.example" in url
               for url in member_browser.requested)
    assert member_browser.foreign_requests() == []
    shot(member, "member-signed-in-through-sso")
