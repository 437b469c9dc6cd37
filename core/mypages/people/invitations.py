"""Invitations by e-mail: the job sends the link, the link lets the invitee in."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mypages.accounts import email_tokens
from mypages.companies.models import Company, Invitation, Membership
from mypages.contract import QueuedJobType
from mypages.db import utcnow
from mypages.i18n import _
from mypages.notifications import localizer_for
from mypages.services import audit_writer, mailer, settings_of


def send_invitation(job) -> None:
    """Safe to run again after a worker died at any point: the link is committed before the
    e-mail leaves, a second run sends the same link, and the job's audit event is committed
    with the mark that the job is done."""
    with job.chunk() as chunk:
        invitation = chunk.dbsession.get(Invitation, job.payload["invitation_id"])
        if invitation is None or invitation.accepted_at or invitation.revoked_at:
            return
        company = chunk.dbsession.get(Company, invitation.company_id)
        token = email_tokens.issue_for_job(chunk.dbsession, settings_of(job).secret, job.key,
                                           "invite", invitation_id=invitation.id, now=job.now)
    if token is None:
        return
    localizer = localizer_for(job.registry, company.default_locale)
    link = settings_of(job).url(f"/invitation/{token}")
    mailer(job).send(invitation.email,
                     localizer.translate(_("You are invited to ${company} on My Pages",
                                           mapping={"company": company.name})),
                     localizer.translate(_(
                         "You have been invited to join ${company} on My Pages.\n\n"
                         "Accept the invitation here (the link works for seven days):\n"
                         "${link}", mapping={"company": company.name, "link": link})))
    audit_writer(job).record(job.dbsession, "people.invitation_sent", company_id=company.id,
                             target=invitation.email)


def accept(dbsession, invitation: Invitation, user, now: dt.datetime | None = None) -> Membership:
    existing = dbsession.scalars(select(Membership).where(
        Membership.company_id == invitation.company_id, Membership.user_id == user.id)).one_or_none()
    invitation.accepted_at = now or utcnow()
    if existing is not None:
        return existing
    membership = Membership(company_id=invitation.company_id, user_id=user.id, role=invitation.role)
    dbsession.add(membership)
    return membership


JOBS = [QueuedJobType("companies.invitation_mail", send_invitation)]
