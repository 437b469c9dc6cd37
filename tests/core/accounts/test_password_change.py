"""Changing one's own password: the current one first, the policy, and the other sessions end."""
import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts import SESSION_COOKIE
from mypages.accounts.models import User, UserSession
from mypages.accounts.passwords import verify_password
from mypages.audit.models import AuditEvent
from mypages.policy.models import CompanyPolicy
from mypages.i18n import _
from mypages.notifications import localizer_for
from mypages.testing.plugin import sign_in

NEW_PASSWORD = "seven quiet herons over the fjord"


def browser(app, address):
    return TestApp(app, extra_environ={"REMOTE_ADDR": address, "HTTP_HOST": "localhost"})


def change(client, current, new, repeat=None, status=303):
    form = client.get("/account/password").forms["password-form"]
    form["current"] = current
    form["new"] = new
    form["repeat"] = new if repeat is None else repeat
    return form.submit(status=status)


def field_error(page, name: str) -> str:
    """The error a field is marked with (aria-invalid) and described by (aria-describedby)."""
    field = page.html.find("input", attrs={"name": name})
    assert field.get("aria-invalid") == "true", f"{name} is not marked invalid"
    described = [page.html.find(id=ref) for ref in field["aria-describedby"].split()]
    errors = [d for d in described if d is not None and "field-error" in d.get("class", [])]
    assert errors, f"{name} is not described by its error"
    return " ".join(e.get_text(" ", strip=True) for e in errors)


def stored_hash(dbsession, user):
    dbsession.expire_all()
    return dbsession.get(User, user.id).password_hash


def test_the_wrong_current_password_is_refused(app, factory, dbsession):
    user = factory.user(locale="en")
    client = browser(app, "10.0.0.1")
    sign_in(client, user.email)
    refused = change(client, "not my password at all", NEW_PASSWORD, status=400)
    expected = localizer_for(app.registry, "en").translate(_("The current password is wrong."))
    assert field_error(refused, "current") == expected
    assert verify_password(stored_hash(dbsession, user), factory.password)
    assert "account.password_change_refused" in dbsession.scalars(select(AuditEvent.action)).all()
    client.get("/account", status=200)  # a typo does not sign anyone out


@pytest.mark.parametrize("new, repeat", [
    ("short one", None),                       # below the platform floor
    ("1qaz2wsx3edc4rfv", None),                # a well-known password
    ("aaaaaaaaaaaaaaaaaa", None),              # too simple
    (NEW_PASSWORD, NEW_PASSWORD + "?"),        # the two do not match
])
def test_the_new_password_must_satisfy_the_policy(app, factory, dbsession, new, repeat):
    user = factory.user()
    client = browser(app, "10.0.0.1")
    sign_in(client, user.email)
    refused = change(client, factory.password, new, repeat, status=400)
    # the error stands beside the field it is about, and a screen reader hears it there
    assert field_error(refused, "new" if repeat is None else "repeat")
    assert verify_password(stored_hash(dbsession, user), factory.password)


def test_a_company_may_ask_for_longer_passwords(app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    dbsession.add(CompanyPolicy(company_id=company.id, password_min_length=40))
    dbsession.commit()
    client = browser(app, "10.0.0.1")
    sign_in(client, user.email)
    assert client.get("/account/password").html.find(id="new")["minlength"] == "40"
    refused = change(client, factory.password, NEW_PASSWORD, status=400)  # 33 characters
    assert "40" in refused.html.find(class_="field-error").text
    assert verify_password(stored_hash(dbsession, user), factory.password)
    change(client, factory.password, NEW_PASSWORD + " at dawn")


def test_other_sessions_end_and_this_one_continues_with_a_new_id(app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    laptop, phone = browser(app, "10.0.0.1"), browser(app, "10.0.0.2")
    sign_in(laptop, user.email)
    sign_in(phone, user.email)
    old_cookie = laptop.cookies[SESSION_COOKIE]
    old_ids = set(dbsession.scalars(select(UserSession.id)))
    done = change(laptop, factory.password, NEW_PASSWORD)
    assert done.location.endswith("/account")
    assert "/login" in phone.get(f"/c/{company.id}/", status=303).location
    laptop.get(f"/c/{company.id}/", status=200)
    assert laptop.cookies[SESSION_COOKIE] != old_cookie
    dbsession.expire_all()
    active = dbsession.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).all()
    assert len(active) == 1 and active[0].id not in old_ids  # a fresh session id
    assert "pwd" in active[0].amr
    # the cookie from before the change is no longer a key to anything
    stolen = browser(app, "10.6.6.6")
    stolen.set_cookie(SESSION_COOKIE, old_cookie)
    stolen.get(f"/c/{company.id}/", status=303)
    assert verify_password(stored_hash(dbsession, user), NEW_PASSWORD)
    phone.reset()
    sign_in(phone, user.email, factory.password, status=400)
    sign_in(phone, user.email, NEW_PASSWORD)
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "account.password_changed")).one()
    assert event.actor_id == user.id and event.details["other_sessions_ended"] == 1


def test_no_password_to_change_when_the_company_requires_sso(app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    client = browser(app, "10.0.0.1")
    sign_in(client, user.email)  # signed in before the company switched to SSO only
    dbsession.add(CompanyPolicy(company_id=company.id, password_allowed=False))
    dbsession.commit()
    change(client, factory.password, NEW_PASSWORD, status=403)
    assert verify_password(stored_hash(dbsession, user), factory.password)


def test_changing_the_password_needs_a_signed_in_user(app):
    anonymous = browser(app, "10.0.0.1")
    assert "/login" in anonymous.get("/account/password", status=303).location
