"""Single Sign On's jobs: e-mail to a company's admins, and clearing out used-up rows."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from mypages.contract import PeriodicJob, QueuedJobType
from mypages.people.mail import mail_company_admins
from mypages.sso.models import SamlAssertionSeen, SsoAttempt
from mypages.sso.require_all import SUSPENDED_BODY, SUSPENDED_TITLE


def require_all_suspended(job) -> None:
    """Mail queued before the admins were told by a notification (which mails as each
    chose): still sent, so an upgrade loses none."""
    mail_company_admins(job, job.payload["company_id"], SUSPENDED_TITLE, SUSPENDED_BODY)


def clear_out(job) -> None:
    """Sign-in attempts older than a day, and SAML assertion ids past their expiry."""
    job.dbsession.execute(delete(SsoAttempt).where(
        SsoAttempt.created_at < job.now - dt.timedelta(days=1)))
    job.dbsession.execute(delete(SamlAssertionSeen).where(SamlAssertionSeen.expires_at < job.now))


JOBS = [QueuedJobType("sso.require_all_suspended_mail", require_all_suspended),
        PeriodicJob("sso.clear_out", clear_out, every=dt.timedelta(hours=1))]
