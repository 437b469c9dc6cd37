"""A plugin's sign-in method is first-class: the test-token plugin (tests/fixtures/
mypages-test-token), written on mypages.toolkit only, is offered on every page that offers the
authenticator app, signs in like a password, counts as a second factor only where its module
is, and never satisfies "Require Single Sign On from all"."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts.models import User, UserSession
from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.testing.plugin import CSRF_PATTERN, enrol_two_factor, sign_in

TOKEN = "test-token"
MODULE = "test_token"


def browser(app, address="127.0.0.1") -> TestApp:
    return TestApp(app, extra_environ={"REMOTE_ADDR": address, "HTTP_HOST": "localhost",
                                       "HTTP_ACCEPT_LANGUAGE": "en"})


def enrol_token(web) -> str:
    """Set up a token through the plugin's page, signed in; returns it."""
    page = web.get("/test-token/enrol").forms["token-form"].submit(status=200)
    return page.html.find(id="token").text.strip()


def with_token(token_app, user) -> str:
    """``user``'s token, set up in a browser that is then closed."""
    web = browser(token_app, "10.9.9.9")
    sign_in(web, user.email)
    token = enrol_token(web)
    web.post("/logout", {"csrf_token": CSRF_PATTERN.search(web.get("/account").text).group(1)})
    return token


def sign_in_with_token(web, token, next_url="", status=303):
    page = web.get("/test-token/sign-in", {"next": next_url} if next_url else {})
    form = page.forms["token-form"]
    form["token"] = token
    return form.submit(status=status)


def prove_with(page, token, status=303):
    """Follow the page's link to the token's step-up page and confirm with the token."""
    link = page.html.find("li", attrs={"data-method": TOKEN}).find("a")["href"]
    form = page.test_app.get(link).forms["token-form"]
    form["token"] = token
    return form.submit(status=status)


def offered(page, list_id):
    found = page.html.find(id=list_id)
    return [item["data-method"] for item in found.find_all("li")] if found else []


def actions(dbsession):
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_sign_in_page_offers_every_method_with_a_page_of_its_own(token_app, testapp):
    page = browser(token_app).get("/login", {"next": "/account"})
    assert TOKEN in offered(page, "sign-in-methods")  # beside other plugins' methods
    methods = page.html.find(id="sign-in-methods")
    link = methods.find("li", attrs={"data-method": TOKEN}).find("a")["href"]
    assert link == "/test-token/sign-in?next=%2Faccount"
    # without the plugin, no token (other installed plugins may offer their own methods)
    assert TOKEN not in offered(testapp.get("/login"), "sign-in-methods")


def test_its_sign_in_does_all_a_password_sign_in_does(token_app, factory, dbsession):
    first, second = factory.company("Första AB"), factory.company("Andra AB")
    user = factory.user(company=first)
    factory.membership(user, second)
    token = with_token(token_app, user)
    web = browser(token_app)
    before = CSRF_PATTERN.search(web.get("/test-token/sign-in").text).group(1)
    started = utcnow()

    home = sign_in_with_token(web, token)

    # a person of two companies is asked which one, as after a password
    assert home.location == "http://localhost/"
    assert home.follow(status=303).location == "http://localhost/companies"
    session = dbsession.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))).one()
    assert set(session.amr) == {TOKEN}
    assert started <= dt.datetime.fromisoformat(session.amr[TOKEN]) <= utcnow()
    # a new session: nothing of the browser's session before signing in is left
    after = CSRF_PATTERN.search(web.get("/companies").text).group(1)
    assert after != before
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "account.signed_in").order_by(AuditEvent.id.desc())).first()
    assert (event.actor_id, event.target, event.details["methods"]) == (
        user.id, user.email, [TOKEN])
    dbsession.expire_all()
    assert dbsession.get(User, user.id).last_sign_in_at >= started


def test_a_wrong_token_and_a_disabled_account_start_no_session(token_app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    token = with_token(token_app, user)
    web = browser(token_app)
    sign_in_with_token(web, "not-the-token", status=400)
    dbsession.get(User, user.id).is_active = False
    dbsession.commit()

    refused = sign_in_with_token(web, token, status=403)

    assert "This account is disabled." in refused.text
    assert dbsession.scalar(select(UserSession.id).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))) is None
    assert actions(dbsession)[-1] == "account.sign_in_refused"


def test_after_a_password_the_second_step_offers_the_token(token_app, factory, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    token = with_token(token_app, user)
    web = browser(token_app)

    verify = sign_in(web, user.email).follow(status=200)

    # no authenticator app: no code form, the token's own page instead
    assert verify.html.find(id="verify-form") is None
    assert offered(verify, "step-up-methods") == [TOKEN]
    done = prove_with(verify, token)
    assert done.location == "http://localhost/"
    amr = dbsession.scalars(select(UserSession.amr).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))).one()
    assert set(amr) == {"pwd", TOKEN}


def test_the_second_step_offers_the_app_and_the_token_to_someone_with_both(token_app, factory):
    user = factory.user(company=factory.company())
    token = with_token(token_app, user)
    web = browser(token_app)
    sign_in(web, user.email)
    # set up the app too, then sign in again
    prove_with(web.get("/login/verify"), token)
    enrol_two_factor(web)
    web.post("/logout", {"csrf_token": CSRF_PATTERN.search(web.get("/account").text).group(1)})

    verify = sign_in(web, user.email).follow(status=200)

    assert verify.html.find(id="verify-form") is not None
    assert offered(verify, "step-up-methods") == [TOKEN]


def test_it_counts_as_second_factor_only_where_its_module_is(token_app, factory, dbsession,
                                                             modules):
    entitled, other = factory.company("Med AB"), factory.company("Utan AB")
    user = factory.user(company=entitled)
    factory.membership(user, other)
    modules.on(token_app).activate(entitled, MODULE)
    for company in (entitled, other):
        factory.policy(company, require_mfa=True)
    token = with_token(token_app, user)
    web = browser(token_app)
    sign_in_with_token(web, token)

    web.get(f"/c/{entitled.id}/", status=200)
    refused = web.get(f"/c/{other.id}/", status=303)

    # not a lock-out: the authenticator app is offered where the token does not count
    assert refused.location.startswith("http://localhost/account/two-factor?")
    enrolment = refused.follow(status=200)
    assert enrolment.html.find("input", attrs={"name": "action", "value": "begin"}) is not None
    assert offered(enrolment, "enrol-methods") == []


def test_the_enrolment_a_company_demands_offers_every_method_that_counts_there(
        token_app, factory, dbsession, modules):
    entitled, other = factory.company("Med AB"), factory.company("Utan AB")
    user = factory.user(company=entitled)
    factory.membership(user, other)
    modules.on(token_app).activate(entitled, MODULE)
    for company in (entitled, other):
        factory.policy(company, require_mfa=True)
    web = browser(token_app)
    sign_in(web, user.email)

    asked = web.get(f"/c/{entitled.id}/", status=303).follow(status=200)
    elsewhere = web.get(f"/c/{other.id}/", status=303).follow(status=200)

    assert offered(asked, "enrol-methods") == [TOKEN]
    assert offered(elsewhere, "enrol-methods") == []
    # set up there, then proven with it, the company's pages open
    link = asked.html.find(id="enrol-methods").find("a")["href"]
    page = web.get(link).forms["token-form"].submit(status=200)
    token = page.html.find(id="token").text.strip()
    step_up = web.get(f"/c/{entitled.id}/", status=303)
    assert step_up.location.startswith("http://localhost/login/verify?")
    back = prove_with(step_up.follow(status=200), token)
    assert back.location == f"http://localhost/c/{entitled.id}/"
    web.get(f"/c/{entitled.id}/", status=200)
    assert "account.stepped_up" in actions(dbsession)


def test_a_lapsed_module_stops_it_counting_without_locking_anyone_out(
        token_app, factory, dbsession, modules):
    company = factory.company()
    user = factory.user(company=company)
    modules.on(token_app).activate(company, MODULE)
    factory.policy(company, require_mfa=True)
    token = with_token(token_app, user)
    web = browser(token_app)
    sign_in_with_token(web, token)
    web.get(f"/c/{company.id}/", status=200)

    modules.on(token_app).expire(company, MODULE)

    enrolment = web.get(f"/c/{company.id}/", status=303).follow(status=200)
    assert enrolment.html.find("input", attrs={"name": "action", "value": "begin"}) is not None
    enrol_two_factor(web)
    web.get(f"/c/{company.id}/", status=200)


def test_no_other_sign_in_method_satisfies_require_single_sign_on_from_all(
        token_app, factory, dbsession, modules):
    company = factory.company()
    user = factory.user(company=company)
    modules.on(token_app).activate(company, MODULE)
    token = with_token(token_app, user)
    factory.policy(company, password_allowed=False)  # "Require from all" is on
    web = browser(token_app)
    sign_in_with_token(web, token)

    refused = web.get(f"/c/{company.id}/", status=403)

    assert "requires its people to sign in through Single Sign On" in refused.text
    assert actions(dbsession)[-1] == "session.refused_by_policy"


def test_another_plugins_method_is_judged_not_federated():
    from types import SimpleNamespace

    from mypages.contract import LoginMethod
    from mypages.policy.engine import EffectivePolicy, judge

    now = utcnow()
    methods = {"bankid": LoginMethod("bankid", "BankID", is_mfa=True, modules=("bankid",))}
    session = SimpleNamespace(last_seen_at=now, created_at=now)
    amr = {"bankid": now.isoformat()}
    assert judge(EffectivePolicy(password_allowed=False), amr, methods, session,
                 break_glass=False, company_id=1,
                 entitled=frozenset({"bankid"})).reason == "password_not_allowed"
    mfa = EffectivePolicy(require_mfa=True)
    assert judge(mfa, amr, methods, session, break_glass=False, company_id=1,
                 entitled=frozenset({"bankid"})).ok
    assert judge(mfa, amr, methods, session, break_glass=False, company_id=1).reason == "mfa"


def test_reauthentication_offers_the_token(token_app, factory, dbsession, clock):
    user = factory.user(company=factory.company())
    token = with_token(token_app, user)
    web = browser(token_app)
    sign_in_with_token(web, token)
    clock.shift(dt.timedelta(minutes=11).total_seconds())

    account = web.get("/account")
    assert TOKEN in offered(account, "account-methods")
    csrf = CSRF_PATTERN.search(account.text).group(1)
    confirm = web.post("/test-token/unlink", {"csrf_token": csrf}, status=303).follow(status=200)

    assert TOKEN in offered(confirm, "reauth-methods")
    assert confirm.html.find(id="reauth-form") is not None  # the password too
    back = prove_with(confirm, token)
    assert back.location == "http://localhost/test-token/unlink"
    web.post("/test-token/unlink", {"csrf_token": CSRF_PATTERN.search(
        web.get("/account").text).group(1)}, status=303)
    assert "test_token.removed" in actions(dbsession)


def test_the_people_tab_names_each_members_second_factors(token_app, factory, dbsession, modules):
    entitled, other = factory.company("Med AB"), factory.company("Utan AB")
    admin = factory.user(company=entitled, role="admin", locale="en")
    factory.membership(admin, other, "admin")
    member = factory.user(company=entitled, locale="en")
    factory.membership(member, other)
    modules.on(token_app).activate(entitled, MODULE)
    with_token(token_app, member)
    web = browser(token_app)
    sign_in(web, admin.email)

    def column(company):
        page = web.get(f"/c/{company.id}/settings/people")
        row = page.html.find("tr", attrs={"data-email": member.email})
        return [span["data-method"] for span in row.find_all("span", attrs={"data-method": True})]

    assert column(entitled) == [TOKEN]
    assert column(other) == []


def test_only_registered_methods_sign_anyone_in(token_app):
    from pyramid.scripting import prepare

    from mypages.toolkit import sign_in as toolkit_sign_in

    with prepare(registry=token_app.registry) as env:
        with pytest.raises(ValueError, match="via:1"):
            toolkit_sign_in(env["request"], 1, ["via:1"])


def test_signing_in_as_someone_else_ends_the_session_before(token_app, factory, dbsession):
    company = factory.company()
    first, second = factory.user(company=company), factory.user(company=company)
    token = with_token(token_app, second)
    web = browser(token_app)
    sign_in(web, first.email)

    sign_in_with_token(web, token)

    dbsession.expire_all()
    open_sessions = dbsession.scalars(select(UserSession.user_id).where(
        UserSession.ended_at.is_(None))).all()
    assert open_sessions == [second.id]
