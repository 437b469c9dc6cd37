"""Queued jobs that send sign-in related e-mail.

The token is made inside the job, so no usable link ever sits in the job
queue, and the web request does the same work whether or not the address
has an account (same answer, same time). It is committed before the e-mail
is sent, and the same one is sent again if the job runs again.
"""
from __future__ import annotations

from sqlalchemy import select

from mypages.accounts import email_tokens
from mypages.accounts.models import User
from mypages.accounts.rules import sign_in_rules
from mypages.contract import QueuedJobType
from mypages.i18n import _
from mypages.notifications import localizer_for
from mypages.services import audit_writer, mailer, settings_of


def send_password_reset(job) -> None:
    email = job.payload["email"]
    user = job.dbsession.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None or not user.is_active:
        return
    if not sign_in_rules(job.registry).password_allowed(job.dbsession, user.id):
        audit_writer(job).record(job.dbsession, "account.password_reset_refused_sso_required",
                                 actor_id=user.id, target=email)
        return
    # the link works before the e-mail that carries it leaves, and a second run (after a
    # worker died) sends the same one; the audit event is committed with the job's end
    with job.chunk() as chunk:
        token = email_tokens.issue_for_job(chunk.dbsession, settings_of(job).secret, job.key,
                                           "reset", user_id=user.id, now=job.now)
    if token is None:
        return
    localizer = localizer_for(job.registry, user.locale or job.payload.get("locale"))
    link = settings_of(job).url(f"/password/reset/{token}")
    mailer(job).send(email, localizer.translate(_("Choose a new password for My Pages")),
                     localizer.translate(_(
                         "Someone asked to reset the password of your My Pages account.\n\n"
                         "Choose a new password here (the link works once, for one hour):\n"
                         "${link}\n\n"
                         "If it was not you, ignore this e-mail; your password stays as it is.",
                         mapping={"link": link})))
    audit_writer(job).record(job.dbsession, "account.password_reset_sent", actor_id=user.id,
                             target=email)


JOBS = [QueuedJobType("accounts.password_reset_mail", send_password_reset)]
