"""An admin reads the audit trail in a real browser: a break-glass sign-in arrives as a
security alert under the bell, the trail is filtered down to it and downloaded as CSV; the
trail's pages fit a phone."""
from __future__ import annotations

import csv
import io
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mypages.accounts.models import TotpCredential
from mypages.crypto import Encryptor
from mypages.db import utcnow
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.settings import DEVELOPMENT_KEY
from mypages.testing.cli import OperatorCli
from mypages.testing.factories import make_company, make_user

from tests.e2e.steps import PASSWORD, PHONE, choose_language, has_horizontal_scroll, sign_in

pytestmark = pytest.mark.e2e


def with_authenticator(session, user) -> str:
    """An authenticator app set up for ``user`` (the server's development key encrypts it);
    returns its secret."""
    secret = pyotp.random_base32()
    session.add(TotpCredential(user_id=user.id, confirmed_at=utcnow(), last_used_step=0,
                               secret_encrypted=Encryptor([DEVELOPMENT_KEY]).encrypt(secret)))
    return secret


@pytest.fixture
def glass_company(live_server):
    """A company of its own that requires Single Sign On, with a break-glass admin who has an
    authenticator app, and an operator with one: (company id, admin e-mail, admin's secret,
    operator e-mail, operator's secret)."""
    stamp = time.time_ns()
    engine = create_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            company = make_company(session, "Glasbrukets Försäkringsförmedling AB")
            admin = make_user(session, f"glass-{stamp}@acme.example", password=PASSWORD,
                              company=company, role="admin", display_name="Greta Glas",
                              locale="en")
            session.add(CompanyPolicy(company_id=company.id, password_allowed=False))
            session.add(BreakGlassAdmin(company_id=company.id, user_id=admin.id))
            secret = with_authenticator(session, admin)
            operator = make_user(session, f"ops-{stamp}@platform.example", password=PASSWORD,
                                 is_operator=True, locale="en")
            operator_secret = with_authenticator(session, operator)
            session.commit()
            return company.id, admin.email, secret, operator.email, operator_secret
    finally:
        engine.dispose()


def sign_in_with_code(page, email: str, secret: str) -> None:
    page.goto("/login")
    choose_language(page, "en")
    sign_in(page, email)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def test_admin_sees_a_break_glass_alert_filters_the_trail_and_downloads_it(
        live_server, glass_company, make_context, shot):
    company_id, email, secret, _operator, _secret = glass_company
    page = make_context().new_page()
    sign_in_with_code(page, email, secret)
    page.goto(f"/c/{company_id}/")  # a password session where Single Sign On is required
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Glasbrukets Försäkringsförmedling AB")

    # the job worker's round: the watch over the trail, then the e-mail it queued
    OperatorCli(ini=live_server.ini)("jobs", "run")
    page.reload()
    bell = page.get_by_role("link", name=re.compile(r"^Notifications: \d+ unread$"))
    expect(bell).to_be_visible()  # the alert, and What's new
    with page.expect_navigation():
        bell.click()
    alert = page.locator("ul.notifications li.unread").filter(
        has=page.get_by_role("heading", name="Security alert at Glasbrukets Försäkringsförmedling AB: A break-glass sign-in"))
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Greta Glas")
    shot(page, "alert-in-the-bell")
    with page.expect_navigation():
        alert.get_by_role("link").first.click()
    expect(page.locator("#audit-events tbody tr")).not_to_have_count(0)
    for action in page.locator("#audit-events tbody tr").evaluate_all(
            "rows => rows.map(row => row.dataset.action)"):
        assert action == "policy.break_glass_used"

    # filter by hand: every event of one person, then of one action
    page.goto(f"/c/{company_id}/settings/audit")
    page.get_by_label("Person (name, e-mail address or what was acted on)").fill("Greta")
    page.get_by_label("Action").select_option("account.signed_in")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    rows = page.locator("#audit-events tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-action", "account.signed_in")
    shot(page, "trail-filtered")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download as CSV").click()
    download = downloading.value
    assert download.suggested_filename == f"audit-trail-{company_id}.csv"
    table = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [row["action"] for row in table] == ["account.signed_in"]
    assert table[0]["person"].startswith("Greta Glas")


def test_the_audit_trail_pages_fit_a_phone(live_server, glass_company, make_context, shot):
    company_id, email, secret, operator, operator_secret = glass_company
    page = make_context(viewport=PHONE).new_page()
    sign_in_with_code(page, email, secret)
    page.goto(f"/c/{company_id}/settings/audit")
    expect(page.locator("#audit-events tbody tr")).not_to_have_count(0)
    events = page.locator("#audit-events")
    for code in ("en", "fi"):
        choose_language(page, code)
        assert not has_horizontal_scroll(page), f"the audit trail scrolls sideways in {code}"
        # nor the table within it: each event is a block of labelled lines
        assert events.evaluate("table => table.scrollWidth <= table.clientWidth"), code
    shot(page, "company-trail-phone")

    page = make_context(viewport=PHONE).new_page()
    sign_in_with_code(page, operator, operator_secret)
    OperatorCli(ini=live_server.ini)("jobs", "run")
    for path in ("/operator/audit", "/operator/alerts"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert not has_horizontal_scroll(page), f"{path} scrolls sideways"
        shot(page, path.strip("/").replace("/", "-"))
