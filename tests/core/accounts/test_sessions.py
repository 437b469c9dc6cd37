"""The sessions page: where am I signed in, and end any of it."""
import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.testing.plugin import sign_in

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def browser(app, user_agent, address):
    return TestApp(app, extra_environ={"REMOTE_ADDR": address, "HTTP_HOST": "localhost",
                                       "HTTP_USER_AGENT": user_agent})


def session_rows(page):
    """(session id, row text) of each listed session."""
    return [(field["value"], field.find_parent("tr").text)
            for field in page.html.find_all("input", attrs={"name": "session_id"})]


def current_marks(page):
    """The session ids marked as this browser's."""
    return [field["value"] for field in page.html.find_all("input", attrs={"name": "session_id"})
            if field.find_parent("tr").find("strong") is not None]


def end_listed_session(client, session_id, status=303):
    page = client.get("/account/sessions")
    form = next(form for form in page.forms.values()
                if "session_id" in form.fields and form["session_id"].value == session_id)
    return form.submit(status=status)


def signed_in_browsers(app, user, count=2):
    agents = [(FIREFOX, "10.1.1.1"), (IPHONE, "10.2.2.2"), (FIREFOX, "10.3.3.3")][:count]
    clients = [browser(app, agent, address) for agent, address in agents]
    for client in clients:
        sign_in(client, user.email)
    return clients


def test_lists_the_active_sessions_with_browser_and_address(app, factory, dbsession):
    user = factory.user()
    laptop, phone, old = signed_in_browsers(app, user, 3)
    old.post("/logout", {"csrf_token": old.get("/account/sessions").forms[0]["csrf_token"].value})
    page = laptop.get("/account/sessions")
    rows = session_rows(page)
    assert len(rows) == 2  # the signed-out one is not listed
    texts = " ".join(text for _id, text in rows)
    assert "iOS" in texts and "Firefox" in texts
    assert "10.1.1.1" in texts and "10.2.2.2" in texts and "10.3.3.3" not in texts
    active = {row.id for row in dbsession.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))}
    assert {session_id for session_id, _text in rows} == active
    laptop_session = next(session_id for session_id, text in rows if "10.1.1.1" in text)
    assert current_marks(page) == [laptop_session]


@pytest.mark.parametrize("agent, language, shown", [
    (WINDOWS_FIREFOX, "en", "Firefox on Windows"),
    (WINDOWS_FIREFOX, "sv", "Firefox på Windows"),
    (IPHONE, "en", "Mobile Safari on iOS"),
    ("curl/8.5.0", "en", "curl"),
    ("", "en", "Unknown browser"),
    ("\u00e5" * 3000, "sv", "Okänd webbläsare"),
])
def test_a_session_names_its_browser_and_system_not_the_raw_user_agent(app, factory, agent,
                                                                      language, shown):
    user = factory.user(locale=language)
    client = browser(app, agent, "10.9.9.9")
    sign_in(client, user.email)
    (_id, text), = session_rows(client.get("/account/sessions"))
    assert shown in text
    if len(agent) > 12:
        assert agent[:30] not in text


def test_ending_another_session_signs_that_browser_out_at_once(app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    laptop, phone = signed_in_browsers(app, user)
    phone.get(f"/c/{company.id}/", status=200)
    phone_session = next(session_id for session_id, text in
                         session_rows(laptop.get("/account/sessions")) if "10.2.2.2" in text)
    end_listed_session(laptop, phone_session)
    assert "/login" in phone.get(f"/c/{company.id}/", status=303).location
    laptop.get(f"/c/{company.id}/", status=200)
    assert [text for _id, text in session_rows(laptop.get("/account/sessions"))
            if "10.2.2.2" in text] == []
    assert dbsession.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "session.ended")).all() == ["session.ended"]


def test_ending_the_current_session_signs_out(app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    laptop, phone = signed_in_browsers(app, user)
    own = next(session_id for session_id, text in
               session_rows(laptop.get("/account/sessions")) if "10.1.1.1" in text)
    response = end_listed_session(laptop, own)
    assert "/login" in response.location
    assert "/login" in laptop.get(f"/c/{company.id}/", status=303).location
    phone.get(f"/c/{company.id}/", status=200)  # the other browser is left alone
    dbsession.expire_all()
    assert dbsession.get(UserSession, own).ended_at is not None


def test_nobody_can_end_someone_elses_session(app, factory, dbsession):
    company = factory.company()
    victim, attacker = factory.user(company=company), factory.user(company=company)
    victim_browser, = signed_in_browsers(app, victim, 1)
    attacker_browser = browser(app, IPHONE, "10.9.9.9")
    sign_in(attacker_browser, attacker.email)
    victim_session = dbsession.scalars(select(UserSession.id).where(
        UserSession.user_id == victim.id)).one()
    token = attacker_browser.get("/account/sessions").forms[0]["csrf_token"].value
    attacker_browser.post("/account/sessions", {"csrf_token": token, "session_id": victim_session},
                          status=303)
    victim_browser.get(f"/c/{company.id}/", status=200)
    dbsession.expire_all()
    assert dbsession.get(UserSession, victim_session).ended_at is None
    attacker_browser.get(f"/c/{company.id}/", status=200)
    assert "session.ended" not in dbsession.scalars(select(AuditEvent.action)).all()


def test_the_sessions_page_needs_a_signed_in_user_and_a_csrf_token(app, factory, dbsession):
    user = factory.user()
    anonymous = browser(app, FIREFOX, "10.5.5.5")
    assert "/login" in anonymous.get("/account/sessions", status=303).location
    laptop, phone = signed_in_browsers(app, user)
    phone_session = next(session_id for session_id, text in
                         session_rows(laptop.get("/account/sessions")) if "10.2.2.2" in text)
    laptop.post("/account/sessions", {"session_id": phone_session}, status=400)
    dbsession.expire_all()
    assert dbsession.get(UserSession, phone_session).ended_at is None
