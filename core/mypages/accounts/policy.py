"""The login policy engine (DESIGN §5).

A session records which methods proved the user and when (``amr``). Each
company has a policy. Every company-scoped view checks the session against
the policy of the company being worked in, and sends the user to step up
where it falls short. Sign-in methods come from ``mypages_login_methods``,
so TOTP is one method among others, not a special case.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyramid.httpexceptions import HTTPSeeOther

from mypages.contract import LoginMethod
from mypages.db import utcnow
from mypages.i18n import _

#: how recent a proof must be for sensitive changes (turning 2FA off, new recovery codes)
REAUTH_WINDOW = dt.timedelta(minutes=10)

CORE_METHODS = [
    LoginMethod("pwd", _("Password"), is_mfa=False, is_local=True),
    LoginMethod("otp", _("Authenticator app (TOTP)"), is_mfa=True, is_local=True),
    LoginMethod("recovery", _("Recovery code"), is_mfa=True, is_local=True),
]


@dataclass(frozen=True)
class EffectivePolicy:
    require_mfa: bool = False
    password_allowed: bool = True
    password_min_length: int = 12
    idle: dt.timedelta | None = None
    absolute: dt.timedelta | None = None


DEFAULT_POLICY = EffectivePolicy()


#: the columns of company_policies that make an EffectivePolicy, in this order
POLICY_FIELDS = ("require_mfa", "password_allowed", "password_min_length", "idle_minutes",
                 "absolute_hours")


def policy_from_columns(require_mfa, password_allowed, password_min_length, idle_minutes,
                        absolute_hours) -> EffectivePolicy:
    """The policy from the values of POLICY_FIELDS; all None (no row) gives the defaults."""
    if require_mfa is None:
        return DEFAULT_POLICY
    return EffectivePolicy(
        require_mfa=require_mfa, password_allowed=password_allowed,
        password_min_length=password_min_length,
        idle=dt.timedelta(minutes=idle_minutes) if idle_minutes else None,
        absolute=dt.timedelta(hours=absolute_hours) if absolute_hours else None,
    )


def effective(row) -> EffectivePolicy:
    """The policy of a company_policies row (or None)."""
    if row is None:
        return DEFAULT_POLICY
    return policy_from_columns(*(getattr(row, field) for field in POLICY_FIELDS))


def login_methods(registry) -> dict[str, LoginMethod]:
    return registry["accounts.login_methods"]


def build_on_ready(registry) -> None:
    methods = {}
    for offered in registry["plugins.manager"].hook.mypages_login_methods():
        for method in offered or []:
            methods[method.key] = method
    registry["accounts.login_methods"] = methods


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # "expired", "mfa", "password_not_allowed"


def proven_for(company_id: int) -> str:
    """The session key saying a Single Sign On sign-in went through this company's own
    connection: another company's identity provider does not satisfy its requirement."""
    return f"via:{company_id}"


def _federated_here(amr: dict, methods: dict, company_id: int | None) -> bool:
    for key in amr:
        method = methods.get(key)
        if method is None or method.is_local:
            continue
        if not key.startswith("sso:") or proven_for(company_id) in amr:
            return True
    return False


def judge(policy: EffectivePolicy, amr: dict, methods: dict, user_session, *,
          break_glass: bool, now: dt.datetime | None = None,
          company_id: int | None = None) -> Verdict:
    now = now or utcnow()
    if policy.idle and now - user_session.last_seen_at > policy.idle:
        return Verdict(False, "expired")
    if policy.absolute and now - user_session.created_at > policy.absolute:
        return Verdict(False, "expired")
    proven = [methods[key] for key in amr if key in methods]
    strong = any(m.is_mfa for m in proven)
    if not policy.password_allowed and not _federated_here(amr, methods, company_id):
        if not break_glass:
            return Verdict(False, "password_not_allowed")
        if not strong:
            return Verdict(False, "mfa")  # break-glass is password AND two-factor
    if policy.require_mfa and not strong:
        return Verdict(False, "mfa")
    return Verdict(True)


def recently_proven(user_session, window: dt.timedelta | None = None) -> bool:
    """True if the user proved themselves within ``window`` (for sensitive changes)."""
    if user_session is None:
        return False
    window = REAUTH_WINDOW if window is None else window
    now = utcnow()
    for when in (user_session.amr or {}).values():
        if now - dt.datetime.fromisoformat(when) <= window:
            return True
    return False


def policy_view_deriver(view, info):
    """Checks every company-scoped view against the company's policy."""
    from mypages.companies import CompanyContext

    def checked(context, request):
        if (isinstance(context, CompanyContext) and context.membership is not None
                and request.user_session is not None):
            amr, methods = request.user_session.amr or {}, login_methods(request.registry)
            verdict = judge(context.policy, amr, methods, request.user_session,
                            break_glass=context.break_glass, company_id=context.company.id)
            if not verdict.ok:
                return _fall_short(request, context, verdict)
            if (context.break_glass and not context.policy.password_allowed
                    and not _federated_here(amr, methods, context.company.id)):
                _audit_break_glass_once(request, context)
        return view(context, request)

    return checked


def _fall_short(request, context, verdict: Verdict):
    from mypages.accounts import end_session
    from mypages.accounts.totp import is_enabled

    here = request.path_qs if request.method == "GET" else request.route_path(
        "dashboard", company_id=context.company.id)
    if verdict.reason == "expired":
        request.audit("session.expired_by_policy")
        end_session(request)
        return HTTPSeeOther(request.route_url("login", _query={"next": here}))
    if verdict.reason == "mfa":
        target = "login_verify" if is_enabled(request.dbsession, request.user.id) else "two_factor"
        return HTTPSeeOther(request.route_url(target, _query={"next": here, "company": context.company.id}))
    request.audit("session.refused_by_policy", reason=verdict.reason)
    request.response.status = 403
    from pyramid.renderers import render_to_response

    return render_to_response("mypages:templates/error.jinja2", {
        "title": _("Sign in through your company's Single Sign On"),
        "message": _("${company} requires its people to sign in through Single Sign On. "
                     "Sign out and sign in again with Single Sign On.",
                     mapping={"company": context.company.name}),
    }, request=request, response=request.response)


def _audit_break_glass_once(request, context) -> None:
    """Audit a break-glass admin's password session once per company and session."""
    audited = request.session.get("break_glass_audited", [])
    if context.company.id in audited:
        return
    request.session["break_glass_audited"] = audited + [context.company.id]
    request.audit("policy.break_glass_used")
    request.enqueue("accounts.break_glass_mail", {"company_id": context.company.id,
                                                  "user_id": request.user.id,
                                                  "user_email": request.user.email})
