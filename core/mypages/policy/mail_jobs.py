"""The sign-in policy's e-mail: a break-glass admin signed in with a password. Only jobs
queued before the watch over the audit trail took it over (the security alert
``break_glass_sign_in``) still send it."""
from __future__ import annotations

from mypages.contract import QueuedJobType
from mypages.i18n import _
from mypages.people.mail import mail_company_admins


def break_glass_used(job) -> None:
    mail_company_admins(job, job.payload["company_id"],
                        _("A break-glass sign-in at ${company}"),
                        _("${user} signed in to ${company} with a password although Single "
                          "Sign On is required, as a break-glass admin. If that was not "
                          "expected, check the audit trail."),
                        values={"user": job.payload["user_email"]},
                        skip_user_id=job.payload["user_id"])


# named when it was part of accounts: jobs already queued under the name still run
JOBS = [QueuedJobType("accounts.break_glass_mail", break_glass_used)]
