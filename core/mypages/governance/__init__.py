"""Governance: reading the audit trail (a company's Audit trail tab, the operators' page,
CSV and the REST API), keeping it (retention, the purge that keeps chains verifiable),
watching it (rules that alert admins and operators to suspicious behaviour: watch.py,
rules.py), and dormant access (memberships unused too long are disabled).

The audit domain below writes the chains; this one knows people, companies and
memberships, and so hands down how the trail names them and which companies a person's own
events also belong to.
"""
from __future__ import annotations

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company, Membership
from mypages.governance import watch
from mypages.governance.models import SecurityAlert

#: events about a person that name no company, written to each of the person's companies'
#: trails: their sign-ins and refused sign-ins, their second factors and passwords
MEMBER_ACTIONS = (
    "account.signed_in", "account.sign_in_failed", "account.sign_in_refused",
    "account.sign_in_throttled", "account.password_refused_sso_required",
    "account.password_changed", "account.password_reset", "account.stepped_up",
    "two_factor.enabled", "two_factor.disabled", "two_factor.recovery_codes_renewed",
    "two_factor.recovery_code_used", "two_factor.code_refused", "two_factor.code_throttled",
)


def user_label(dbsession, user_id: int) -> str:
    row = dbsession.execute(select(User.display_name, User.email)
                            .where(User.id == user_id)).first()
    if row is None:
        return ""
    return f"{row.display_name} <{row.email}>" if row.display_name else row.email


def company_label(dbsession, company_id: int) -> str:
    return dbsession.scalar(select(Company.name).where(Company.id == company_id)) or ""


def companies_of(dbsession, user_id: int) -> list[int]:
    return list(dbsession.scalars(select(Membership.company_id)
                                  .where(Membership.user_id == user_id)))


def includeme(config):
    config.set_audit_lookup("user_label", user_label)
    config.set_audit_lookup("company_label", company_label)
    config.set_audit_lookup("companies_of", companies_of)
    config.add_member_audit_actions(*MEMBER_ACTIONS)
    config.register_core_hooks("core.governance", "mypages.governance.hooks")
    config.on_plugins_ready(watch.build_on_ready)
    config.add_purge_rule("old security alerts", SecurityAlert, watch.kept_no_longer)
    config.add_company_route("company_audit", "/settings/audit")
    config.add_company_route("company_audit_csv", "/settings/audit.csv")
    config.add_route("operator_audit", "/operator/audit")
    config.add_route("operator_audit_csv", "/operator/audit.csv")
    config.add_route("operator_alerts", "/operator/alerts")
    config.scan(".views")
