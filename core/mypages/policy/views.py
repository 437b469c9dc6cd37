"""The Security tab of company settings: the company's sign-in policy and break-glass admins."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import delete, select

from mypages.accounts.password_policy import MAX_LENGTH, PLATFORM_MIN_LENGTH
from mypages.companies.models import Role
from mypages.i18n import _
from mypages.people import members as people
from mypages.policy.engine import effective
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.services import clock
from mypages.web.inputs import as_id, whole_number

IDLE_RANGE = (5, 24 * 60)        # minutes
ABSOLUTE_RANGE = (1, 30 * 24)    # hours
DORMANT_RANGE = (14, 3650)       # days: above the week of warning before


def _policy_row(request) -> CompanyPolicy | None:
    return request.dbsession.get(CompanyPolicy, request.company.id)


def security_page(request, errors=(), values=None):
    row = _policy_row(request)
    policy = effective(row)
    admins = [(membership, user) for membership, user, _confirmed in
              people.members(request.dbsession, request.company.id)
              if membership.role == Role.admin]
    break_glass = set(request.dbsession.scalars(select(BreakGlassAdmin.user_id).where(
        BreakGlassAdmin.company_id == request.company.id)))
    current = values or {
        "require_mfa": policy.require_mfa,
        "password_min_length": policy.password_min_length,
        "idle_minutes": row.idle_minutes if row else None,
        "absolute_hours": row.absolute_hours if row else None,
        "dormant_days": row.dormant_days if row else None,
        "break_glass": break_glass,
    }
    return {"values": current, "errors": list(errors), "admins": admins,
            "floor": PLATFORM_MIN_LENGTH, "max_length": MAX_LENGTH,
            "idle_range": IDLE_RANGE, "absolute_range": ABSOLUTE_RANGE,
            "dormant_range": DORMANT_RANGE,
            "messages": request.session.pop_flash()}


def _optional_int(value: str, low: int, high: int, message, errors: list):
    value = (value or "").strip()
    if not value:
        return None
    number = whole_number(value, low, high)
    if number is None:
        errors.append(message)
    return number


@view_config(route_name="company_security", renderer="mypages:templates/security.jinja2",
             permission="company.admin", request_method="GET")
def security(request):
    return security_page(request)


@view_config(route_name="company_security", renderer="mypages:templates/security.jinja2",
             permission="company.admin", request_method="POST")
def save_security(request):
    errors = []
    post = request.POST
    length = post.get("password_min_length", "").strip()
    if whole_number(length, PLATFORM_MIN_LENGTH, MAX_LENGTH) is None:
        errors.append(_("The minimum password length must be a number from ${low} to ${high}.",
                        mapping={"low": PLATFORM_MIN_LENGTH, "high": MAX_LENGTH}))
    idle = _optional_int(post.get("idle_minutes"), *IDLE_RANGE, _(
        "The idle timeout must be empty or a number of minutes from ${low} to ${high}.",
        mapping={"low": IDLE_RANGE[0], "high": IDLE_RANGE[1]}), errors)
    absolute = _optional_int(post.get("absolute_hours"), *ABSOLUTE_RANGE, _(
        "The longest session must be empty or a number of hours from ${low} to ${high}.",
        mapping={"low": ABSOLUTE_RANGE[0], "high": ABSOLUTE_RANGE[1]}), errors)
    dormant = _optional_int(post.get("dormant_days"), *DORMANT_RANGE, _(
        "The days before an unused membership is disabled must be empty or a number from "
        "${low} to ${high}.", mapping={"low": DORMANT_RANGE[0], "high": DORMANT_RANGE[1]}),
        errors)
    admin_ids = {membership.user_id for membership, _user, _c in
                 people.members(request.dbsession, request.company.id)
                 if membership.role == Role.admin}
    chosen = {as_id(v) for v in post.getall("break_glass")} - {None}
    if chosen - admin_ids:
        errors.append(_("Only admins of the company can be break-glass admins."))
    values = {"require_mfa": post.get("require_mfa") == "on", "password_min_length": length,
              "idle_minutes": post.get("idle_minutes"), "absolute_hours": post.get("absolute_hours"),
              "dormant_days": post.get("dormant_days"), "break_glass": chosen}
    if errors:
        request.response.status = 400
        return security_page(request, errors, values)
    policy = _policy_row(request)
    defaults = effective(policy)
    before = {"require_mfa": defaults.require_mfa,
              "password_min_length": defaults.password_min_length,
              "idle_minutes": policy.idle_minutes if policy else None,
              "absolute_hours": policy.absolute_hours if policy else None,
              "dormant_days": policy.dormant_days if policy else None}
    if policy is None:
        policy = CompanyPolicy(company_id=request.company.id, password_allowed=True)
        request.dbsession.add(policy)
    policy.require_mfa = values["require_mfa"]
    policy.password_min_length = int(length)
    policy.idle_minutes, policy.absolute_hours = idle, absolute
    policy.dormant_days = dormant
    policy.updated_at = clock(request).now()
    after = {"require_mfa": policy.require_mfa, "password_min_length": policy.password_min_length,
             "idle_minutes": idle, "absolute_hours": absolute, "dormant_days": dormant}
    old_break_glass = set(request.dbsession.scalars(select(BreakGlassAdmin.user_id).where(
        BreakGlassAdmin.company_id == request.company.id)))
    request.dbsession.execute(delete(BreakGlassAdmin).where(
        BreakGlassAdmin.company_id == request.company.id))
    request.dbsession.add_all(BreakGlassAdmin(company_id=request.company.id, user_id=user_id)
                              for user_id in sorted(chosen))
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if chosen != old_break_glass:
        changed["break_glass"] = [sorted(old_break_glass), sorted(chosen)]
    request.audit("policy.changed", changes=changed)
    request.session.flash(request.translate(_("The security settings have been saved.")))
    return HTTPSeeOther(request.route_url("company_security", company_id=request.company.id))
