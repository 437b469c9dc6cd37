"""Group mapping: the identity provider's groups decide a person's company groups,
added and removed at every sign-in."""
from __future__ import annotations

from sqlalchemy import delete, select

from mypages.companies.models import Group, GroupMember
from mypages.i18n import _, message_record
from mypages.sso.models import SsoGroupMapping
from mypages.work import Work


def sync_groups(work: Work, connection, company, user, identity) -> None:
    """Make ``user``'s groups those the provider named; ``work``'s actor is the person
    signing in."""
    mappings = work.dbsession.scalars(select(SsoGroupMapping).where(
        SsoGroupMapping.connection_id == connection.id)).all()
    if not mappings:
        connection.groups_skipped = None  # nothing is mapped, so nothing was skipped
        return
    if identity.groups is None:
        # the provider could not say (e.g. group overage): change nothing, and say so
        reason = identity.groups_warning or _(
            "The identity provider did not say which groups the person is in.")
        connection.groups_skipped = {"message": message_record(reason), "email": user.email}
        work.audit("sso.groups_skipped", company=company, target=user.email)
        return
    connection.groups_skipped = None
    granted = {m.group_id for m in mappings if m.idp_group in set(identity.groups)}
    mapped = {m.group_id for m in mappings}
    current = set(work.dbsession.scalars(select(GroupMember.group_id).where(
        GroupMember.user_id == user.id, GroupMember.source == "sso",
        GroupMember.group_id.in_(mapped))))
    added, removed = granted - current, current - granted
    manual = set(work.dbsession.scalars(select(GroupMember.group_id).where(
        GroupMember.user_id == user.id, GroupMember.source != "sso",
        GroupMember.group_id.in_(added))))
    for group_id in added - manual:
        work.dbsession.add(GroupMember(group_id=group_id, user_id=user.id, source="sso"))
    if removed:
        work.dbsession.execute(delete(GroupMember).where(
            GroupMember.user_id == user.id, GroupMember.source == "sso",
            GroupMember.group_id.in_(removed)))
    if added or removed:
        names = dict(work.dbsession.execute(select(Group.id, Group.name).where(
            Group.id.in_(added | removed))).all())
        work.audit("sso.groups_changed", company=company, target=user.email,
                   added=sorted(names[g] for g in added), removed=sorted(names[g] for g in removed))
