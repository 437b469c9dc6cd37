"""The sign-in policy engine: every session judged against the policy of where it is used.

A session records which methods proved the user and when (``amr``,
core/mypages/accounts/methods.py). Each company has a policy. Every company-scoped view checks
the session against the policy of the company being worked in, and sends the user to step up
where it falls short. Sign-in methods come from ``mypages_login_methods``, so TOTP is one
method among others, not a special case.

Above the companies, the platform: operator pages need a second factor, and
operators may require one of everyone (core/mypages/policy/platform.py) on every
page that needs a signed-in user. A second factor is any method that
``is_mfa``, as for a company's own requirement, so a Single Sign On sign-in
counts too. Falling short leads to step-up, or to setting up two-factor
authentication for someone who has none: never a lock-out.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED

from mypages.accounts import end_session
from mypages.accounts.methods import has_second_factor, login_methods, second_factors_of
from mypages.companies import CompanyContext
from mypages.db import ColumnGroup, utcnow
from mypages.i18n import _
from mypages.services import clock


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


#: A company's policy in a row: ``POLICY_GROUP.from_mapping(row._mapping)`` (the defaults where
#: the company has none). The policy engine does not import the companies' models, so the
#: request-context loader gives the groups their tables (company_policies, break_glass_admins).
POLICY_GROUP = ColumnGroup("policy", POLICY_FIELDS, policy_from_columns, missing=DEFAULT_POLICY)
#: whether the signed-in user is a break-glass admin of the company: their user_id, if any
BREAK_GLASS_GROUP = ColumnGroup("break_glass", ("user_id",), lambda user_id: True, missing=False)


class CompanyPolicyContext(CompanyContext):
    """A company page's context as the request-context loader reads it
    (core/mypages/policy/context.py): with the company's sign-in policy, and whether the
    signed-in user is one of its break-glass admins, for the engine to judge the session by."""

    def __init__(self, company, membership, entitled_modules: frozenset[str] = frozenset(),
                 policy: EffectivePolicy = DEFAULT_POLICY, break_glass: bool = False,
                 page_values=None):
        super().__init__(company, membership, entitled_modules, page_values)
        self.policy = policy
        self.break_glass = break_glass


def effective(row) -> EffectivePolicy:
    """The policy of a company_policies row (or None)."""
    if row is None:
        return DEFAULT_POLICY
    return policy_from_columns(*(getattr(row, field) for field in POLICY_FIELDS))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # "expired", "mfa", "password_not_allowed"


def proven_for(company_id: int) -> str:
    """The session key saying a Single Sign On sign-in went through this company's own
    connection: another company's identity provider does not satisfy its requirement."""
    return f"via:{company_id}"


def _federated_here(amr: dict, company_id: int | None) -> bool:
    """Whether the company's own Single Sign On connection proved the session: the only proof
    that satisfies its "Require from all" (another company's connection, or any other sign-in
    method, local or from a plugin, does not)."""
    return company_id is not None and proven_for(company_id) in amr


def judge(policy: EffectivePolicy, amr: dict, methods: dict, user_session, *,
          break_glass: bool, now: dt.datetime | None = None,
          company_id: int | None = None, entitled: frozenset[str] = frozenset()) -> Verdict:
    """The verdict on a session in a company with ``policy``, entitled to the modules
    ``entitled`` (a plugin's method counts as a second factor only where its modules are)."""
    now = now or utcnow()
    if policy.idle and now - user_session.last_seen_at > policy.idle:
        return Verdict(False, "expired")
    if policy.absolute and now - user_session.created_at > policy.absolute:
        return Verdict(False, "expired")
    strong = has_second_factor(amr, methods, entitled)
    if not policy.password_allowed and not _federated_here(amr, company_id):
        if not break_glass:
            return Verdict(False, "password_not_allowed")
        if not strong:
            return Verdict(False, "mfa")  # break-glass is password AND two-factor
    if policy.require_mfa and not strong:
        return Verdict(False, "mfa")
    return Verdict(True)


def policy_view_deriver(view, info):
    """Checks every company-scoped view against the company's policy, and every view that needs
    a signed-in user against the platform's: operator pages and, while the operators require it,
    every such page want a second factor. ``require_second_factor=False`` marks the pages where
    one is set up."""
    permission = info.options.get("permission")
    exempt = info.exception_only or info.options.get("require_second_factor") is False
    signed_in_page = permission not in (None, NO_PERMISSION_REQUIRED)
    operator_page = permission == "operator"

    def checked(context, request):
        company = context if (isinstance(context, CompanyPolicyContext)
                              and context.membership is not None) else None
        if (company is None and (exempt or not signed_in_page)) or request.user_session is None:
            return view(context, request)
        amr, methods = request.user_session.amr or {}, login_methods(request.registry)
        entitled = company.entitled_modules if company is not None else frozenset()
        # the platform's switch is read only where it could change the answer
        required = not exempt and not has_second_factor(amr, methods, entitled) and (
            operator_page or ((company is None or not company.policy.require_mfa)
                              and request.platform_requires_mfa))
        if company is None:
            if required:
                return _fall_short(request, None, Verdict(False, "mfa"),
                                   "operator" if operator_page else "home")
            return view(context, request)
        # the platform's requirement is the company's own, met and fallen short of alike
        policy = replace(company.policy, require_mfa=True) if required else company.policy
        verdict = judge(policy, amr, methods, request.user_session,
                        break_glass=company.break_glass, company_id=company.company.id,
                        now=clock(request).now(), entitled=entitled)
        if not verdict.ok:
            return _fall_short(request, company, verdict, "dashboard", by_platform=required)
        if (company.break_glass and not policy.password_allowed
                and not _federated_here(amr, company.company.id)):
            _audit_break_glass_once(request, company)
        return view(context, request)

    return checked


policy_view_deriver.options = ("require_second_factor",)


def _fall_short(request, context, verdict: Verdict, fallback: str, by_platform: bool = True):
    """Step-up, enrolment, sign-in again or a refusal; back to the page (or ``fallback``, a route
    of the company or the platform, after a form) once the session is good enough.
    ``by_platform``: the platform asks for the second factor, not the company."""
    if request.method == "GET":
        here = request.path_qs
    elif context is not None:
        here = request.route_path(fallback, company_id=context.company.id)
    else:
        here = request.route_path(fallback)
    if verdict.reason == "expired":
        request.audit("session.expired_by_policy")
        end_session(request)
        return HTTPSeeOther(request.route_url("login", _query={"next": here}))
    if verdict.reason == "mfa":
        # step-up with a second factor that counts here, or setting one up: never a lock-out
        entitled = context.entitled_modules if context is not None else frozenset()
        has = second_factors_of(request.dbsession, request.user.id,
                                login_methods(request.registry), entitled)
        target = "login_verify" if has else "two_factor"
        query = {"next": here}
        if context is not None and (not by_platform or not has):
            # the step-up page says who asks; the set-up page offers what counts there
            query["company"] = context.company.id
        return HTTPSeeOther(request.route_url(target, _query=query))
    request.audit("session.refused_by_policy", reason=verdict.reason)
    request.response.status = 403
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
    # the watch over the trail tells the admins (mypages.governance.rules)
    request.audit("policy.break_glass_used")
