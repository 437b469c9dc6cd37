"""Hostile input never reaches a 500 (ASVS 1.2, 1.3): every route of the core and of every
installed plugin, as anonymous, member, admin and operator, with the sweep of
mypages.testing; and the inputs found to 500 before, one by one, each refused with a clear,
translated 4xx that changes nothing."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts import email_tokens
from mypages.accounts.views.sign_in import NOT_AN_EMAIL
from mypages.companies.models import Group, Invitation
from mypages.i18n import _
from mypages.sso.models import SsoGroupMapping, VerifiedDomain
from mypages.testing.hostile import multipart, send_raw
from mypages.testing.plugin import csrf_token, sign_in
from mypages.testing.web import sign_in_at_once
from mypages.testing.sso import add_verified_domains, azure_values, connect
from mypages.web import inputs
from mypages.web.safety import safe_next
from mypages_example_notes.models import Note
from tests.security.support import browser, everything, translated
from tests.security.test_headers import assert_security_headers


@pytest.fixture
def rich_world(app, hostile_world, factory, dbsession, azure_idp):
    """The sweep's company with something behind every form: an invitation, a reset link, a
    Single Sign On connection with a group mapping, a verified and a claimed domain."""
    company = hostile_world.company
    invitation = Invitation(company_id=company.id, email="invitee@example.se")
    dbsession.add(invitation)
    dbsession.flush()
    resetting = factory.user()
    tokens = {"invitation.token": email_tokens.issue(dbsession, "invite", invitation_id=invitation.id),
              "password_reset.token": email_tokens.issue(dbsession, "reset", user_id=resetting.id)}
    add_verified_domains(dbsession, company, "example.se")
    dbsession.add(VerifiedDomain(company_id=company.id, domain="claimed.example", token="t"))
    settings, secrets = azure_values(azure_idp)
    connection = connect(app, dbsession, company, "azure", settings, secrets)
    group = Group(company_id=company.id, name="Staff")
    dbsession.add(group)
    dbsession.flush()
    dbsession.add(SsoGroupMapping(connection_id=connection.id, idp_group="staff", group_id=group.id))
    dbsession.commit()
    return tokens, {**settings, **secrets, "provider": "azure", "protocol": "oidc",
                    "domain": "another.example", "idp_group": "staff2", "group": "Staff"}


def test_no_hostile_input_reaches_a_5xx(hostile_sweep, rich_world, dns_app):
    tokens, good = rich_world
    started = time.perf_counter()
    report = hostile_sweep(app=dns_app, good=good, placeholders={
        "module_key": "notes", "action": "remove", "subpath": "mypages.css", "connection_id": 1,
        "token": "no-such-token", **tokens})
    print(f"{report.requests} requests in {time.perf_counter() - started:.1f} s", report.statuses)
    for note in report.notes:
        print("NOTE", note)
    for found in sorted(report.forms):
        print("FORM", found)
    for failure in report.failures:
        print("FAIL", failure)
    assert [str(failure) for failure in report.failures] == []


# -- each input that reached a 500 before, refused with a translated 4xx ----------------

@pytest.fixture
def notes_company(app, hostile_world):
    """The sweep's company (every module active), its admin and member signed in."""
    admin, member = browser(app, ip="192.0.2.10"), browser(app, ip="192.0.2.11")
    sign_in(admin, hostile_world.admin.email)
    sign_in(member, hostile_world.member.email)
    return hostile_world.company, admin, member


def assert_refused(app, response, status: int, message) -> None:
    assert response.status_int == status, response.text[:300]
    assert translated(app, message) in response.text
    assert_security_headers(response, response.request.path)


def test_an_over_long_e_mail_at_sign_in_is_refused_before_it_is_counted(app, hostile_world):
    engine = app.registry["db.engine"]
    before = everything(engine, but=())
    visitor = browser(app)
    for email in ("a" * 300 + "@example.se", "b" * 5000):
        form = visitor.get("/login").forms["login-form"]
        form["email"] = email
        assert_refused(app, form.submit(status="*"), 400, NOT_AN_EMAIL)  # the first step
        assert_refused(app, sign_in_at_once(visitor, email, "wrong password", status="*"), 400,
                       NOT_AN_EMAIL)
    assert everything(engine, but=()) == before  # no throttle counter, no audit event


@pytest.mark.parametrize("value", ["a\x00b", "\x1b[2Jx", "x\x7f"])
def test_nul_and_control_characters_in_a_field_are_refused(app, notes_company, value):
    company, admin, member = notes_company
    engine = app.registry["db.engine"]
    before = everything(engine, but=())
    for visitor, path, field in ((member, f"/c/{company.id}/notes", "text"),
                                 (admin, f"/c/{company.id}/settings/notes", "heading"),
                                 (admin, f"/c/{company.id}/settings/people/invitations", "email")):
        token = csrf_token(visitor, path if field != "email" else "/account")
        response = visitor.post(path, {"csrf_token": token, field: value}, status="*")
        assert_refused(app, response, 400, inputs.TEXT_REFUSED)
    login = browser(app).post("/login", {"csrf_token": csrf_token(browser(app)), "email": value},
                              status="*")
    assert login.status_int == 400
    assert everything(engine, but=()) == before


def test_a_note_keeps_its_line_breaks_and_tabs(app, notes_company, dbsession):
    company, _admin, member = notes_company
    path = f"/c/{company.id}/notes"
    member.post(path, {"csrf_token": csrf_token(member, path), "text": "one\r\n\ttwo"}, status=303)
    assert dbsession.scalars(select(Note.text)).one() == "one\r\n\ttwo"


def test_invalid_utf8_in_a_form_is_refused_not_stored_as_replacement_characters(app, notes_company):
    company, _admin, member = notes_company
    engine = app.registry["db.engine"]
    before = everything(engine, but=())
    path = f"/c/{company.id}/notes"
    token = csrf_token(member, path)
    for body in (b"text=%FF%FEnote", b"text=\xc0\xafnote", b"te%FFxt=note"):
        response = send_raw(member, "POST", path, b"csrf_token=" + token.encode() + b"&" + body,
                            "application/x-www-form-urlencoded")
        assert_refused(app, response, 400, inputs.TEXT_REFUSED)
    response = send_raw(member, "POST", path, *multipart(
        [("csrf_token", token), ("text", b"\xff\xfenote")], set()))
    assert_refused(app, response, 400, inputs.TEXT_REFUSED)
    assert everything(engine, but=()) == before


# the client's cookie jar cannot file the session cookie of an undecodable address
@pytest.mark.filterwarnings("ignore:http.cookiejar bug")
@pytest.mark.parametrize("path", ["/c/%FF%FE/", "/c/1/settings/people/%C0%AF/remove",
                                  "/static/%FF%FE", "/login%00", "/password/reset/%ED%A0%80"])
def test_invalid_utf8_and_control_characters_in_the_path_are_refused(app, path):
    response = TestApp(app).get(path, status="*", headers={"Accept-Language": "en"})
    assert response.status_int == 400
    assert "The address of this page is not valid" in response.text
    assert_security_headers(response, path)
    assert response.html.find("input", {"name": "next"})["value"] == "/"


@pytest.mark.parametrize("query", ["next=%FF%FE", "next=%C0%AF", "next=%00", "email=%1B", "%FF=1"])
def test_invalid_utf8_and_control_characters_in_the_query_are_refused(app, query):
    response = browser(app).get(f"/login?{query}", status=400)
    assert_refused(app, response, 400, inputs.TEXT_REFUSED)


@pytest.mark.parametrize("number", [str(2 ** 31), str(2 ** 63), "9" * 40, "0", "-1", "%C2%B2",
                                    "1e3"])
def test_ids_beyond_the_integer_range_in_the_path_are_not_found(app, notes_company, number):
    company, admin, _member = notes_company
    for path in (f"/c/{number}/", f"/c/{number}/settings/security",
                 f"/c/{company.id}/settings/people/{number}/remove", f"/sso/saml/{number}/metadata"):
        response = admin.get(path, status="*")
        assert response.status_int == 404, path
        assert_security_headers(response, path)
    token = csrf_token(admin, "/account")
    response = admin.post(f"/c/{company.id}/settings/people/{number}/remove",
                          {"csrf_token": token}, status="*")
    assert response.status_int == 404


@pytest.mark.parametrize("number", [str(2 ** 31), str(2 ** 63), "9" * 40, "²"])
def test_ids_and_numbers_beyond_their_range_in_a_form_are_refused(app, notes_company, number):
    company, admin, _member = notes_company
    engine = app.registry["db.engine"]
    unchanged = ("audit_events", "audit_chains", "company_policies")
    before = everything(engine, but=unchanged)
    path = f"/c/{company.id}/settings/security"
    token = csrf_token(admin, path)
    response = admin.post(f"/c/{company.id}/settings/people/invitations",
                          {"csrf_token": token, "revoke": number}, status="*")
    assert_refused(app, response, 400, _("There is no such invitation."))
    for field in ("password_min_length", "idle_minutes", "absolute_hours", "dormant_days"):
        values = {"csrf_token": token, "password_min_length": "12", field: number}
        assert admin.post(path, values, status="*").status_int == 400, field
    response = admin.post(path, {"csrf_token": token, "password_min_length": "12",
                                 "break_glass": number}, status=303)  # not an admin's id: none
    assert everything(engine, but=unchanged) == before


def test_a_field_sent_as_a_file_is_refused(app, notes_company):
    company, admin, member = notes_company
    engine = app.registry["db.engine"]
    before = everything(engine, but=())
    for visitor, path, field in ((member, f"/c/{company.id}/notes", "text"),
                                 (admin, f"/c/{company.id}/settings/notes", "heading"),
                                 (member, "/account/password", "current")):
        token = csrf_token(visitor, "/account")
        response = visitor.post(path, {"csrf_token": token},
                                upload_files=[(field, "note.txt", b"hello")], status="*")
        assert_refused(app, response, 400, inputs.FILE_REFUSED)
    anonymous = browser(app)
    response = anonymous.post("/login", {"csrf_token": csrf_token(anonymous)},
                              upload_files=[("email", "x.txt", b"a@example.se")], status="*")
    assert_refused(app, response, 400, inputs.FILE_REFUSED)
    assert everything(engine, but=()) == before


def test_an_over_long_next_address_is_not_kept(app, hostile_world, dbsession):
    visitor = browser(app)
    form = visitor.get("/login?next=/" + "a" * 600).forms["login-form"]
    assert form["next"].value == ""
    assert safe_next("/" + "a" * 600) == "/" and safe_next("/account") == "/account"


def test_a_view_configured_to_accept_files_gets_them(extra_app):
    visitor = browser(extra_app)
    page = visitor.post("/_test/upload", {"csrf_token": csrf_token(visitor)},
                        upload_files=[("document", "scan.pdf", b"%PDF-1.7 binary \x00\xff")])
    assert page.text == "scan.pdf: 18 bytes"


def test_the_sweep_finds_a_plugin_view_that_trusts_its_input(hostile_sweep, extra_app):
    report = hostile_sweep(packages=["tests.security.extra_routes"], app=extra_app,
                           skip=["test_raises", "test_writes_then_raises", "test_commit_fails",
                                 "test_callback_raises", "test_raises_a_redirect",
                                 "test_breaks_the_error_page"])
    assert ("anonymous", "POST", "/_test/fragile") in report.forms
    found = {(failure.path, failure.what) for failure in report.failures}
    # a number too big, negative, empty or not ASCII passes or fails int() as Python likes:
    # the ones that fail it are found
    assert {("/_test/fragile", "count: over-long"), ("/_test/fragile", "count: empty"),
            ("/_test/fragile", "count: superscript digit"),
            ("/_test/fragile", "every field missing")} <= found
    assert all(failure.status == 500 for failure in report.failures)
