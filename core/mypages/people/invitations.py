"""Invitations by e-mail: the job sends the link, the link lets the invitee in."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from mypages.accounts import email_tokens
from mypages.accounts.models import EmailToken, User
from mypages.companies.models import Company, Invitation, Membership, Role
from mypages.contract import QueuedJobType
from mypages.db import utcnow
from mypages.i18n import _
from mypages.notifications.compose import compose, reader_locale
from mypages.services import audit_writer, mailer, settings_of


def send_invitation(job) -> None:
    """Safe to run again after a worker died at any point: the link is committed before the
    e-mail leaves, a second run sends the same link, and the job's audit event is committed
    with the mark that the job is done. Written in the invitee's language if they have an
    account, else in the company's; it says who invited them, to which company, and until
    when the link works. Sent again (``people.resend``), it is a new job with a new link."""
    with job.chunk() as chunk:
        invitation = chunk.dbsession.get(Invitation, job.payload["invitation_id"])
        if invitation is None or invitation.accepted_at or invitation.revoked_at:
            return
        company = chunk.dbsession.get(Company, invitation.company_id)
        token = email_tokens.issue_for_job(chunk.dbsession, settings_of(job).secret, job.key,
                                           "invite", invitation_id=invitation.id, now=job.now)
    if token is None:
        return
    db = job.dbsession
    inviter = db.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    invitee = db.scalars(select(User).where(User.email == invitation.email)).first()
    expires_at = db.scalar(select(func.max(EmailToken.expires_at)).where(
        EmailToken.invitation_id == invitation.id, EmailToken.purpose == "invite"))
    values = {"company": company.name, "link": settings_of(job).url(f"/invitation/{token}"),
              "role": ROLE_NAMES[invitation.role], "expires": expires_at,
              "inviter": inviter.name if inviter is not None else ""}
    locale = reader_locale(invitee.locale if invitee is not None else None,
                           company.default_locale)
    if inviter is not None:
        subject = _("${inviter} has invited you to ${company} on My Pages")
        body = _("Hello,\n\n${inviter} has invited you to join ${company} on My Pages as "
                 "${role}.\n\nAccept the invitation here (the link works until ${expires}):\n"
                 "${link}\n\nIf you did not expect this invitation, you can ignore this e-mail.")
    else:
        subject = _("You are invited to ${company} on My Pages")
        body = _("Hello,\n\nYou have been invited to join ${company} on My Pages as ${role}."
                 "\n\nAccept the invitation here (the link works until ${expires}):\n${link}"
                 "\n\nIf you did not expect this invitation, you can ignore this e-mail.")
    mail_subject, mail_body = compose(job.registry, locale, subject=subject, body=body,
                                      values=values)
    mailer(job).send(invitation.email, mail_subject, mail_body)
    audit_writer(job).record(job.dbsession, "people.invitation_sent", company_id=company.id,
                             target=invitation.email)


def expiry_of(dbsession, invitation: Invitation, now: dt.datetime) -> dt.datetime:
    """Until when the invitation's newest link works (before its e-mail has gone out: until
    when it will)."""
    latest = dbsession.scalar(select(func.max(EmailToken.expires_at)).where(
        EmailToken.invitation_id == invitation.id, EmailToken.purpose == "invite"))
    return latest or max(invitation.created_at, now) + email_tokens.LIFETIME["invite"]


def accept(dbsession, invitation: Invitation, user, now: dt.datetime | None = None) -> Membership:
    existing = dbsession.scalars(select(Membership).where(
        Membership.company_id == invitation.company_id, Membership.user_id == user.id)).one_or_none()
    invitation.accepted_at = now or utcnow()
    if existing is not None:
        return existing
    membership = Membership(company_id=invitation.company_id, user_id=user.id, role=invitation.role)
    dbsession.add(membership)
    return membership


#: how an invitation e-mail names the role it invites to
ROLE_NAMES = {Role.member: _("a member"), Role.admin: _("an admin")}

JOBS = [QueuedJobType("companies.invitation_mail", send_invitation)]
