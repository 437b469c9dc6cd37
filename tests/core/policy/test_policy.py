"""The login policy engine: each company's policy, checked on every company page."""
import datetime as dt

import pyotp
from sqlalchemy import select

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.companies.models import Membership, Role
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.testing.plugin import csrf_token, sign_in


def set_policy(dbsession, company, **values):
    policy = dbsession.get(CompanyPolicy, company.id) or CompanyPolicy(company_id=company.id)
    for key, value in values.items():
        setattr(policy, key, value)
    dbsession.add(policy)
    dbsession.commit()


def test_user_of_two_companies_steps_up_only_where_2fa_is_required(factory, testapp, dbsession):
    relaxed, strict = factory.company("Relaxed AB"), factory.company("Strict AB")
    user = factory.user(company=relaxed)
    dbsession.add(Membership(company_id=strict.id, user_id=user.id, role=Role.member))
    dbsession.commit()
    set_policy(dbsession, strict, require_mfa=True)
    sign_in(testapp, user.email)
    testapp.get(f"/c/{relaxed.id}/", status=200)
    response = testapp.get(f"/c/{strict.id}/", status=303)
    assert "/account/two-factor" in response.location  # led to enrolment, not locked out
    # enrol; the session now proves otp and the strict company opens
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"})
    page = testapp.get("/account/two-factor")
    secret = page.html.find(id="totp-secret").text.strip()
    form = page.forms["confirm-form"]
    form["code"] = pyotp.TOTP(secret).now()
    form.submit(status=200)
    testapp.get(f"/c/{strict.id}/", status=200)


def test_a_user_with_2fa_who_skipped_it_is_asked_for_a_code(factory, testapp, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    session_row = dbsession.scalars(select(UserSession)).one()
    # enrolled elsewhere meanwhile: simulate a session that only proved the password
    from mypages.accounts.models import TotpCredential
    from mypages.crypto import DEVELOPMENT_KEY, Encryptor
    dbsession.add(TotpCredential(user_id=user.id, secret_encrypted=Encryptor([DEVELOPMENT_KEY])
                                 .encrypt(pyotp.random_base32()), confirmed_at=session_row.created_at))
    dbsession.commit()
    set_policy(dbsession, company, require_mfa=True)
    response = testapp.get(f"/c/{company.id}/", status=303)
    assert "/login/verify" in response.location


def test_idle_timeout_of_the_company_ends_the_session(factory, testapp, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    set_policy(dbsession, company, idle_minutes=5)
    row = dbsession.scalars(select(UserSession)).one()
    row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=6)
    dbsession.commit()
    response = testapp.get(f"/c/{company.id}/", status=303)
    assert "/login" in response.location
    dbsession.expire_all()
    assert dbsession.scalars(select(UserSession)).one().ended_at is not None


def test_absolute_timeout_of_the_company(factory, testapp, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    set_policy(dbsession, company, absolute_hours=1)
    row = dbsession.scalars(select(UserSession)).one()
    row.created_at = row.created_at - dt.timedelta(hours=2)
    dbsession.commit()
    testapp.get(f"/c/{company.id}/", status=303)


def test_password_closed_by_policy_refuses_sign_in_but_break_glass_admins_keep_it(
        factory, testapp, dbsession):
    company = factory.company()
    member = factory.user(company=company)
    admin = factory.user(company=company, role="admin")
    set_policy(dbsession, company, password_allowed=False)
    page = sign_in(testapp, member.email, status=403)
    assert page.html.find(class_="error")
    dbsession.add(BreakGlassAdmin(company_id=company.id, user_id=admin.id))
    dbsession.commit()
    sign_in(testapp, admin.email)
    # break-glass is password AND two-factor: led to set it up, never locked out
    response = testapp.get(f"/c/{company.id}/", status=303)
    assert "/account/two-factor" in response.location
    assert dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "policy.break_glass_used")).all() == []
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"})
    page = testapp.get("/account/two-factor")
    form = page.forms["confirm-form"]
    form["code"] = pyotp.TOTP(page.html.find(id="totp-secret").text.strip()).now()
    form.submit(status=200)
    testapp.get(f"/c/{company.id}/", status=200)
    testapp.get(f"/c/{company.id}/settings/modules", status=200)
    used = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "policy.break_glass_used")).all()
    assert len(used) == 1 and used[0].actor_id == admin.id


def test_admins_edit_the_policy_but_never_below_the_platform_floor(factory, signed_in,
                                                                   dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    testapp = signed_in(admin)
    form = testapp.get(f"/c/{company.id}/settings/security").forms["security-form"]
    form["password_min_length"] = "8"
    form.submit(status=400)
    assert dbsession.get(CompanyPolicy, company.id) is None
    form["password_min_length"] = "16"
    form["require_mfa"] = True
    form["idle_minutes"] = "30"
    form["break_glass"] = [str(admin.id)]
    form.submit(status=303)
    dbsession.expire_all()
    policy = dbsession.get(CompanyPolicy, company.id)
    assert (policy.password_min_length, policy.require_mfa, policy.idle_minutes) == (16, True, 30)
    assert dbsession.scalars(select(BreakGlassAdmin.user_id)).all() == [admin.id]
    changed = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "policy.changed")).one()
    assert changed.details["changes"]["password_min_length"] == [12, 16]


def test_another_companys_single_sign_on_does_not_satisfy_require_from_all():
    from types import SimpleNamespace

    from mypages.policy.engine import EffectivePolicy, judge, proven_for
    from mypages.accounts.methods import CORE_METHODS
    from mypages.contract import LoginMethod
    from mypages.db import utcnow

    now = utcnow()
    methods = {method.key: method for method in CORE_METHODS}
    methods["sso:azure"] = LoginMethod("sso:azure", "Entra ID", is_mfa=True)
    session = SimpleNamespace(last_seen_at=now, created_at=now)
    required = EffectivePolicy(password_allowed=False)
    at = now.isoformat()
    ours = {"sso:azure": at, proven_for(1): at}
    theirs = {"sso:azure": at, proven_for(2): at}
    assert judge(required, ours, methods, session, break_glass=False, company_id=1).ok
    assert judge(required, theirs, methods, session, break_glass=False,
                 company_id=1).reason == "password_not_allowed"
    # break-glass admins keep password and two-factor, not a password alone
    assert judge(required, {"pwd": at}, methods, session, break_glass=True,
                 company_id=1).reason == "mfa"
    assert judge(required, {"pwd": at, "otp": at}, methods, session, break_glass=True,
                 company_id=1).ok


def test_a_company_requiring_sso_never_tells_whether_the_password_was_right(factory, testapp,
                                                                            dbsession):
    company = factory.company()
    member = factory.user(company=company)
    set_policy(dbsession, company, password_allowed=False)
    right = sign_in(testapp, member.email, status=403)
    wrong = sign_in(testapp, member.email, "not the password at all", status=403)
    assert right.html.find(class_="error").text == wrong.html.find(class_="error").text
