"""Dormant access: a company may say how many days without a sign-in disable a membership
(its Security tab; off unless set). Every morning a job warns, by e-mail and once, the
people a week from it, and disables the memberships that went unused that long: the person's
sessions end and the company's pages stay closed to them until an admin restores the
membership on the People tab. Never the company's last admin in use: a company must keep
someone who can let people back in. Every warning, disabling and restoring is audited."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo, JobContext, PeriodicJob
from mypages.i18n import _
from mypages.people.mail import mail_user
from mypages.people.members import PeopleError
from mypages.policy.models import CompanyPolicy
from mypages.services import session_store
from mypages.work import Work

WARN_BEFORE = dt.timedelta(days=7)
RUN_AT = dt.time(6, 0)  # before people start their day: a warning read, a door closed

WARNING_SUBJECT = _("Your access to ${company} ends soon")
WARNING_BODY = _("Hello ${recipient},\n\nyou have not signed in to ${company} for a long "
                 "time. Unless you sign in before ${day}, your access to the company will be "
                 "disabled, and an admin of the company will have to restore it.\n")


def last_active(membership: Membership, user: User) -> dt.datetime:
    """Since when the membership has gone unused: the last sign-in, else when it began or
    was last restored, whichever is latest."""
    return max(when for when in (user.last_sign_in_at, membership.created_at,
                                 membership.restored_at) if when is not None)


def _enabled_admins(dbsession, company_id: int) -> int:
    return len(dbsession.scalars(select(Membership.id).where(
        Membership.company_id == company_id, Membership.role == Role.admin,
        Membership.disabled_at.is_(None))).all())


def sweep(job: JobContext) -> dict[str, int]:
    """Warn and disable, a short transaction per membership (its mail sent in it: a failure
    leaves it to the next morning)."""
    counts = {"warned": 0, "disabled": 0}
    with job.chunk() as chunk:
        rules = chunk.dbsession.execute(select(CompanyPolicy.company_id, CompanyPolicy.dormant_days)
                                        .where(CompanyPolicy.dormant_days.is_not(None))).all()
    for company_id, days in rules:
        limit = dt.timedelta(days=days)
        with job.chunk() as chunk:
            ids = chunk.dbsession.scalars(select(Membership.id).where(
                Membership.company_id == company_id, Membership.disabled_at.is_(None))).all()
        for membership_id in ids:
            with job.chunk() as chunk:
                done = _judge(chunk, membership_id, limit, days)
            if done:
                counts[done] += 1
    return counts


def _judge(chunk: JobContext, membership_id: int, limit: dt.timedelta, days: int) -> str | None:
    dbsession, now = chunk.dbsession, chunk.now
    membership = dbsession.get(Membership, membership_id)
    if membership is None or membership.disabled_at is not None:
        return None
    user = dbsession.get(User, membership.user_id)
    since = last_active(membership, user)
    work = Work.of_job(chunk)
    company = _company(dbsession, membership.company_id)
    if since + limit <= now:
        if membership.role == Role.admin and _enabled_admins(dbsession, company.id) <= 1:
            return None
        membership.disabled_at = now
        ended = session_store(chunk.registry).end_all(dbsession, user.id)
        work.audit("people.membership_disabled", company=company, target=str(user.id),
                   days=days, last_active=since.isoformat(), sessions_ended=ended)
        return "disabled"
    warned = membership.dormancy_warned_at
    if since + limit - WARN_BEFORE <= now and (warned is None or warned < since):
        membership.dormancy_warned_at = now
        work.audit("people.dormancy_warned", company=company, target=str(user.id), days=days)
        mail_user(chunk, user.id, WARNING_SUBJECT, WARNING_BODY, company_id=company.id,
                  values={"day": (since + limit).date()})
        return "warned"
    return None


def _company(dbsession, company_id: int) -> CompanyInfo:
    return CompanyInfo.of(dbsession.get(Company, company_id))


def restore(work: Work, company, user_id: int) -> Membership:
    """Open the company again to a member whose membership went unused; dormancy counts
    from now."""
    membership = work.dbsession.scalars(select(Membership).where(
        Membership.company_id == company.id, Membership.user_id == user_id)).one_or_none()
    if membership is None:
        raise PeopleError(_("That person is not a member of this company."))
    if membership.disabled_at is None:
        return membership
    membership.disabled_at = membership.dormancy_warned_at = None
    membership.restored_at = work.now()
    work.audit("people.membership_restored", company=company, target=str(user_id))
    return membership


def jobs() -> list:
    return [PeriodicJob("people.dormant_access", sweep, at=RUN_AT)]
