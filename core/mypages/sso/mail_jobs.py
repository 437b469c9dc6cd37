"""Single Sign On's jobs: e-mail to a company's admins, and clearing out used-up rows."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from mypages.contract import PeriodicJob, QueuedJobType
from mypages.i18n import _
from mypages.people.mail import mail_company_admins
from mypages.sso.models import SamlAssertionSeen, SsoAttempt


def require_all_suspended(job) -> None:
    mail_company_admins(job, job.payload["company_id"],
                        _("Single Sign On is no longer required at ${company}"),
                        _("The Single Sign On module of ${company} is no longer active, so "
                          "\"Require from all\" is suspended: your people can sign in with "
                          "their passwords again. Buy the module under Company settings to "
                          "require Single Sign On again."))


def clear_out(job) -> None:
    """Sign-in attempts older than a day, and SAML assertion ids past their expiry."""
    job.dbsession.execute(delete(SsoAttempt).where(
        SsoAttempt.created_at < job.now - dt.timedelta(days=1)))
    job.dbsession.execute(delete(SamlAssertionSeen).where(SamlAssertionSeen.expires_at < job.now))


JOBS = [QueuedJobType("sso.require_all_suspended_mail", require_all_suspended),
        PeriodicJob("sso.clear_out", clear_out, every=dt.timedelta(hours=1))]
