"""The core's part of a company's data export: the company, its people and their
memberships, invitations, groups, modules and their settings, orders, sign-in policy, API
tokens, Single Sign On, notifications and the audit trail. Secrets never go in: a token's
hash, a connection's secrets, a verification token."""
from __future__ import annotations

from sqlalchemy import inspect, select

from mypages.accounts.models import User
from mypages.api.models import ApiToken
from mypages.audit.models import AuditEvent
from mypages.companies.models import Company, Group, GroupMember, Invitation, Membership
from mypages.inbox.models import Notification
from mypages.modules.models import ModuleActivation, ModuleSettings, Order
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.sso.models import SsoConnection, SsoGroupMapping, SsoLink, VerifiedDomain


def columns(row, leave_out: tuple[str, ...] = ()) -> dict:
    """Every mapped column of ``row`` (as the model names it), but those left out."""
    return {attribute.key: getattr(row, attribute.key)
            for attribute in inspect(row).mapper.column_attrs
            if attribute.key not in leave_out}


def _all(dbsession, query, leave_out=()) -> list[dict]:
    return [columns(row, leave_out) for row in dbsession.scalars(query)]


def people(dbsession, company_id: int) -> list[dict]:
    rows = dbsession.execute(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.company_id == company_id).order_by(User.id)).all()
    return [{"user_id": user.id, "email": user.email, "display_name": user.display_name,
             "role": membership.role.value, "member_since": membership.created_at,
             "disabled_at": membership.disabled_at, "locale": user.locale,
             "active": user.is_active, "account_created_at": user.created_at,
             "last_sign_in_at": user.last_sign_in_at}
            for membership, user in rows]


def core_kinds(dbsession, company_id: int) -> dict[str, list[dict]]:
    """The core's rows of the company, by kind, in the order they are written."""
    connection = select(SsoConnection.id).where(SsoConnection.company_id == company_id)
    groups = select(Group.id).where(Group.company_id == company_id)
    kinds = {
        "company": _all(dbsession, select(Company).where(Company.id == company_id)),
        "people": people(dbsession, company_id),
        "invitations": _all(dbsession, select(Invitation).where(
            Invitation.company_id == company_id).order_by(Invitation.id)),
        "groups": _all(dbsession, select(Group).where(Group.company_id == company_id)
                       .order_by(Group.id)),
        "group_members": _all(dbsession, select(GroupMember).where(
            GroupMember.group_id.in_(groups)).order_by(GroupMember.group_id,
                                                       GroupMember.user_id)),
        "modules": _all(dbsession, select(ModuleActivation).where(
            ModuleActivation.company_id == company_id).order_by(ModuleActivation.module_key)),
        "module_settings": _all(dbsession, select(ModuleSettings).where(
            ModuleSettings.company_id == company_id).order_by(ModuleSettings.module_key)),
        "orders": _all(dbsession, select(Order).where(Order.company_id == company_id)
                       .order_by(Order.id)),
        "sign_in_policy": _all(dbsession, select(CompanyPolicy).where(
            CompanyPolicy.company_id == company_id)),
        "break_glass_admins": _all(dbsession, select(BreakGlassAdmin).where(
            BreakGlassAdmin.company_id == company_id)),
        "api_tokens": _all(dbsession, select(ApiToken).where(
            ApiToken.company_id == company_id).order_by(ApiToken.id), ("secret_hash",)),
        "sso_connection": [
            {**columns(row, ("secrets_encrypted",)), "secrets_set": bool(row.secrets_encrypted)}
            for row in dbsession.scalars(select(SsoConnection).where(
                SsoConnection.company_id == company_id))],
        "sso_links": _all(dbsession, select(SsoLink).where(
            SsoLink.connection_id.in_(connection)).order_by(SsoLink.id)),
        "sso_group_mappings": _all(dbsession, select(SsoGroupMapping).where(
            SsoGroupMapping.connection_id.in_(connection)).order_by(SsoGroupMapping.id)),
        "verified_domains": _all(dbsession, select(VerifiedDomain).where(
            VerifiedDomain.company_id == company_id).order_by(VerifiedDomain.id), ("token",)),
        "notifications": _all(dbsession, select(Notification).where(
            Notification.company_id == company_id).order_by(Notification.id)),
        "audit_events": _all(dbsession, select(AuditEvent).where(
            AuditEvent.chain_id == company_id).order_by(AuditEvent.seq)),
    }
    return kinds
