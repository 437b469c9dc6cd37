"""A person's own data, downloaded at once from their account: their account, memberships,
sessions, second factors (never a secret), notifications and the audit events about them."""
from __future__ import annotations

import tempfile
import zipfile

from sqlalchemy import or_, select

from mypages.accounts.models import RecoveryCode, TotpCredential, User, UserSession
from mypages.audit.models import AuditEvent
from mypages.companies.models import Company, Membership
from mypages.contract import UserInfo
from mypages.events import EventContext
from mypages.inbox.models import Notification, NotificationPreference
from mypages.plugins import plugin_hooks
from mypages.privacy.archive import ExportArchive
from mypages.privacy.core_data import columns

#: the most audit events one download holds (the newest): the trail keeps a year
EVENTS_MAX = 20_000


def own_kinds(dbsession, user_id: int) -> dict[str, list[dict]]:
    user = dbsession.get(User, user_id)
    memberships = dbsession.execute(
        select(Membership, Company.name).join(Company, Company.id == Membership.company_id)
        .where(Membership.user_id == user_id).order_by(Company.name)).all()
    totp = dbsession.get(TotpCredential, user_id)
    return {
        "account": [columns(user, ("password_hash",))],
        "memberships": [{"company_id": membership.company_id, "company": name,
                         "role": membership.role.value, "since": membership.created_at,
                         "disabled_at": membership.disabled_at}
                        for membership, name in memberships],
        "sessions": [{**columns(session, ("id",)), "amr": sorted(session.amr or {})}
                     for session in dbsession.scalars(select(UserSession).where(
                         UserSession.user_id == user_id).order_by(UserSession.created_at))],
        "two_factor": [{"authenticator_app_since": totp.confirmed_at if totp else None,
                        "recovery_codes_left": len(dbsession.scalars(select(RecoveryCode.id)
                                                   .where(RecoveryCode.user_id == user_id,
                                                          RecoveryCode.used_at.is_(None)))
                                                   .all())}],
        "notifications": [columns(row) for row in dbsession.scalars(
            select(Notification).where(Notification.user_id == user_id)
            .order_by(Notification.id))],
        "notification_preferences": [columns(row) for row in dbsession.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id))],
        "audit_events": [columns(row) for row in dbsession.scalars(
            select(AuditEvent).where(or_(AuditEvent.actor_id == user_id,
                                         AuditEvent.target == user.email))
            .order_by(AuditEvent.id.desc()).limit(EVENTS_MAX))],
    }


def own_archive(dbsession, registry, user_id: int, now) -> tempfile.SpooledTemporaryFile:
    """The zip of the person's data, the plugins' parts in folders of their own
    (``mypages_user_export``), rewound."""
    user = UserInfo.of(dbsession.get(User, user_id))
    context = EventContext(dbsession, registry, now, None, user)
    core = registry.get("plugins.core", set())
    file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as zip_file:
        archive = ExportArchive(zip_file, "")
        for kind, rows in own_kinds(dbsession, user_id).items():
            archive.add_rows(kind, rows)
        for impl in reversed(plugin_hooks(registry).mypages_user_export.get_hookimpls()):
            given = {"context": context, "user": user,
                     "archive": archive.scoped("core" if impl.plugin_name in core
                                               else impl.plugin_name)}
            impl.function(**{name: given[name] for name in impl.argnames})
        archive.finish({"user_id": user_id, "exported_at": now.isoformat()})
    file.seek(0)
    return file
