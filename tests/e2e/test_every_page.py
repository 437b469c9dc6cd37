"""Every page of the core and of every installed plugin, in a real Chromium, on a phone
(390 px) and on a laptop (1366 px), in Swedish (the product's first language, whose long
words push a layout widest): no page scrolls sideways and axe-core finds nothing.

The pages are found, not listed: every route with a GET view (Pyramid's introspector, on the
application the portal serves), its placeholders filled with real ids of the seeded company,
or taken from a link on a page already visited. A route that no visit reached fails the test
unless it is one of :data:`NOT_PAGES` (downloads and machine answers) or :data:`UNREACHED`,
each with the reason. A screenshot of every page at both widths is kept in
tests/e2e/screenshots/every-page/ (not committed; CI can keep it as an artifact).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

import pyotp
import pytest
import segno
from pyramid.paster import get_app
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from mypages.accounts import email_tokens
from mypages.accounts.models import User
from mypages.companies.models import Company, Invitation
from mypages.db import utcnow
from mypages.modules.models import ModuleActivation, ModuleState, Order
from mypages.testing.chromium import contexts, enter_address, sign_in
from mypages.testing.factories import make_api_token, make_user
from mypages.testing.hostile import PLACEHOLDER, fill, placeholders_of, routes_of
from mypages.testing.pages import VIEWPORTS, Problem, page_problems

pytestmark = pytest.mark.e2e

#: GET routes that answer something other than a page
NOT_PAGES = {
    "api": "the REST API (JSON)",
    "api_document": "the OpenAPI document (JSON)",
    "company_audit_csv": "a CSV download",
    "operator_audit_csv": "a CSV download",
    "healthz": "a health probe (JSON)",
    "readyz": "a readiness probe (JSON)",
    "two_factor_qr": "an SVG image",
    "sso_saml_metadata": "SAML metadata (XML)",
    "rates_csv": "a CSV download",
    "rates_json": "a JSON download",
    "ocr_download": "the scanned file itself",
    "own_data_download": "a person's own data (a ZIP archive)",
    "company_data_download": "a company's export (a ZIP archive, downloaded once)",
    "operator_company_download": "a company's export (a ZIP archive, downloaded once)",
    "ocr_page_image": "a PNG image",
    "ocr_status": "a JSON status for the page's script",
    "bankid_status": "a JSON status for the page's script",
}
#: GET routes the sweep cannot reach without a third party, and why
UNREACHED = {
    "bankid_order": "an order needs a BankID server; the portal runs as production does, "
                    "with no fake one",
    "bankid_phone_order": "the same, for the order an operator starts on a support call",
    "bankid_sign": "a signature is asked for by a purchase that needs one, and signing needs "
                   "the BankID server too (tests/e2e/test_bankid.py signs in a browser)",
}
STATIC = re.compile(r"^__")


@dataclass
class Visit:
    role: str
    route: str
    path: str
    status: int
    final: str
    problems: dict = field(default_factory=dict)


@dataclass
class World:
    """Ids of the seeded company's rows, for the routes' placeholders."""

    values: dict
    operator_email: str
    operator_password: str


@pytest.fixture(scope="module")
def world(live_portal) -> World:
    """Rows for the pages to show, written into the seeded company of the run's portal (its
    notes module is put on a trial, so that buying it is a page)."""
    seeded = live_portal.seeded
    engine = create_engine(live_portal.database_url)
    try:
        with Session(engine) as session:
            company = session.get(Company, seeded.company_id)
            admin_user = _user(session, seeded.admin_email)
            member = _user(session, seeded.member_email)
            password = seeded.password
            operator = make_user(session, f"operator-{time.time_ns()}@platform.example",
                                 password=password, is_operator=True,
                                 display_name="Olga Operator")
            invitation = Invitation(company_id=company.id, email="new.person@acme.example",
                                    invited_by_id=admin_user.id)
            session.add(invitation)
            session.flush()
            invitation_token = email_tokens.issue(session, "invite",
                                                  invitation_id=invitation.id)
            token, _secret = make_api_token(session, company, ["companies:read"],
                                            created_by=admin_user, name="Bookkeeping")
            # one module on a trial, so that its purchase page asks
            trial = session.scalars(select(ModuleActivation).where(
                ModuleActivation.company_id == company.id,
                ModuleActivation.module_key == "notes")).one()
            now = utcnow()
            trial.state = ModuleState.trial
            trial.trial_started_at = now
            trial.trial_ends_at = now + dt.timedelta(days=7)
            order = Order(company_id=company.id, module_key="rates", ordered_by_id=admin_user.id,
                          price="990 kr/mån", amount=Decimal("990.00"), currency="SEK",
                          vat_percent=Decimal("25"), period="month", starts_at=now)
            session.add(order)
            session.commit()
            return World(values={
                "company_id": company.id, "user_id": member.id,
                "invitation_id": invitation.id, "token": secrets.token_urlsafe(16),
                "invitation.token": invitation_token, "token_id": token.id,
                "order_id": order.id, "module_key": "rates",
                "module_purchase.module_key": "notes",
            }, operator_email=operator.email, operator_password=password)
    finally:
        engine.dispose()


def _user(session, email):
    return session.scalars(select(User).where(User.email == email)).one()


@pytest.fixture(scope="module")
def routes(live_portal):
    """The GET routes of the application the portal serves, from Pyramid's introspector."""
    app = get_app(str(live_portal.ini))
    return {route.name: route.pattern for route in routes_of(app)
            if "GET" in route.methods and not STATIC.match(route.name)}


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    sign_in(page, email, password)


def _sign_in_steps(page, check) -> None:
    """The sign-in page's password step, which only a POST shows (the sweep GETs the first
    step): as it comes, and after a wrong password."""
    page.goto("/login")
    enter_address(page, "nobody@acme.example")
    check("anonymous", "login", "/login (password step)")
    page.locator("#password").fill("not the password")
    with page.expect_navigation():
        page.locator("#login-form button[type=submit]").click()
    check("anonymous", "login", "/login (wrong password)")


def _enrol_two_factor(page, shots, check) -> None:
    """The operator is sent to set up two-factor authentication: each step is a page."""
    assert urlsplit(page.url).path == "/account/two-factor"
    check("operator", "two_factor", "/account/two-factor (asked)")
    page.locator("form button.primary").click()
    page.wait_for_selector("#totp-secret")
    check("operator", "two_factor", "/account/two-factor (scan)")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.locator("#confirm-form button[type=submit]").click()
    page.wait_for_selector("#recovery-codes")
    check("operator", "two_factor", "/account/two-factor (codes)")


def _audience(pattern: str) -> list[str]:
    """Who visits a route: the operator its pages, an admin every company page, a member the
    company's own pages and their account, and anyone the public pages (a page that sends
    the visitor to the sign-in page is not visited again)."""
    if pattern.startswith("/operator"):
        return ["operator"]
    if pattern.startswith("/c/"):
        return ["admin"] if "/settings" in pattern else ["member", "admin"]
    return ["anonymous", "member"]


def test_every_page_fits_a_phone_and_a_laptop_and_passes_axe(
        browser, live_portal, world, routes, screenshots_folder):
    started = time.monotonic()
    shots = screenshots_folder / "every-page"
    shots.mkdir(exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    seeded = live_portal.seeded
    visits: list[Visit] = []
    seen: set[tuple[str, str]] = set()
    reached: set[str] = set()
    links: dict[str, list[str]] = {}

    with contexts(browser, live_portal) as make:
        pages, console = {}, {}
        for role in ("anonymous", "member", "admin", "operator"):
            # in Swedish, the product's first language, whose long words push a layout widest
            pages[role] = page = make(locale="sv-SE", viewport=VIEWPORTS["desktop"]).new_page()
            # a script error, or a style or script the Content-Security-Policy refused
            console[role] = errors = []
            page.on("console", lambda message, errors=errors, page=page:
                    message.type == "error" and not _the_page_itself(message, page)
                    and errors.append(message.text))
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))

        def check(role: str, route: str, label: str) -> Visit:
            page = pages[role]
            visit = Visit(role, route, label, 200, urlsplit(page.url).path)
            reached.add(route)
            page.wait_for_load_state()
            links.setdefault(role, []).extend(page.eval_on_selector_all(
                "a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))
            for name, viewport in VIEWPORTS.items():
                page.set_viewport_size(viewport)
                found = page_problems(page)
                if found:
                    visit.problems[name] = found
                slug = re.sub(r"[^\w.-]+", "_", f"{role}-{label}")[:150]
                page.screenshot(path=str(shots / f"{len(visits):03d}-{slug}-{name}.png"),
                                full_page=True)
            page.set_viewport_size(VIEWPORTS["desktop"])
            if console[role]:
                visit.problems["console"] = [Problem("console", text) for text in console[role]]
                console[role].clear()
            visits.append(visit)
            return visit

        def visit(role: str, route: str, path: str) -> None:
            page = pages[role]
            response = page.goto(path)
            final = urlsplit(page.url)
            reached.add(route)
            kind = (response.headers.get("content-type", "") if response else "")
            if "text/html" not in kind:
                return
            # a page that sends the visitor elsewhere (the sign-in page) is checked once
            redirected = final.path != urlsplit(path).path
            key = (role, final.path if redirected else path)
            if key in seen:
                return
            if final.path == "/login" and path != "/login" and role != "anonymous":
                pytest.fail(f"{role} was sent to sign in from {path}")
            seen.add(key)
            check(role, route, path)

        _sign_in(pages["member"], seeded.member_email, seeded.password)
        _sign_in(pages["admin"], seeded.admin_email, seeded.password)
        _sign_in(pages["operator"], world.operator_email, world.operator_password)
        _enrol_two_factor(pages["operator"], shots, check)
        _sign_in_steps(pages["anonymous"], check)
        # the design system's example page (docs/plugins/ui.rst shows the same file)
        visit("anonymous", "__static/", "/static/ui.html")

        pending = {}
        for name, pattern in sorted(routes.items()):
            if name in NOT_PAGES or name in UNREACHED:
                continue
            names = placeholders_of(pattern)
            if any(n not in world.values and f"{name}.{n}" not in world.values for n in names):
                pending[name] = pattern  # filled from a link on a visited page, below
                continue
            path = fill(pattern, world.values, route=name)
            for role in _audience(pattern):
                visit(role, name, path)

        _upload_a_document(pages["admin"], seeded.company_id, links)
        # routes whose ids only a page knows (a plugin's rows): follow the first link to each
        for role in ("admin", "member", "anonymous"):
            for link in list(dict.fromkeys(links.get(role, []))):
                for name, pattern in list(pending.items()):
                    if _matches(pattern, link):
                        visit(role, name, link)
                        del pending[name]

    elapsed = time.monotonic() - started
    print(f"\n{len(visits)} pages at 2 widths in {elapsed:.1f}s; screenshots in {shots}")

    missed = sorted(set(routes) - reached - set(NOT_PAGES) - set(UNREACHED))
    assert missed == [], f"routes no visit reached (add rows or a reason): {missed}"
    report = [f"{v.role} {v.path} ({width}): {problem}"
              for v in visits for width, problems in v.problems.items() for problem in problems]
    assert report == [], "\n".join(report)


def _the_page_itself(message, page) -> bool:
    """The browser's note that the page (an error page, answered with a 4xx) or its
    favicon came with an error status: not a fault of the page."""
    url = message.location.get("url", "")
    return url == page.url or url.endswith("/favicon.ico")


def _upload_a_document(page, company_id: int, links: dict) -> None:
    """A scanned page uploaded to the OCR plugin's documents (read later by its job): the
    document's own page is then a link of the list."""
    if page.goto(f"/c/{company_id}/documents").status != 200:
        return
    scan = io.BytesIO()
    segno.make("Avtal 2026-001").save(scan, kind="png", scale=4)  # a small real PNG
    page.locator("#file").set_input_files({"name": "contract.png", "mimeType": "image/png",
                                           "buffer": scan.getvalue()})
    with page.expect_navigation():
        page.locator("#upload-form button[type=submit]").click()
    links.setdefault("admin", []).extend(page.eval_on_selector_all(
        "a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))


def _matches(pattern: str, path: str) -> bool:
    regex = "^" + PLACEHOLDER.sub(lambda m: "[^/]+", re.escape(pattern).replace(r"\{", "{")
                                  .replace(r"\}", "}")) + "$"
    return re.match(regex, urlsplit(path).path) is not None

