"""E-mail to a company's admins about Single Sign On."""
from __future__ import annotations

from mypages.contract import QueuedJobType
from mypages.i18n import _
from mypages.notifications import tell_admins


def require_all_suspended(job) -> None:
    tell_admins(job, job.payload["company_id"],
                _("Single Sign On is no longer required at ${company}"),
                _("The Single Sign On module of ${company} is no longer active, so \"Require "
                  "from all\" is suspended: your people can sign in with their passwords "
                  "again. Buy the module under Company settings to require Single Sign On "
                  "again."), {})


JOBS = [QueuedJobType("sso.require_all_suspended_mail", require_all_suspended)]
