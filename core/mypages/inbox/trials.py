"""Trial reminders to a company's admins: three days before a module's trial ends, and when
it has ended. A job at a time of day sends them, each once (a dedupe key per trial), so
nobody is woken at night and a missed day is caught up the next."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mypages.companies.models import Company
from mypages.contract import JobContext
from mypages.i18n import _
from mypages.inbox import AdminsOf, notify
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.web.urls import route_path

KIND = "trial"
#: the first reminder comes this long before the trial ends
AHEAD = dt.timedelta(days=3)
#: a trial that ended longer ago than this gets no "has ended" any more (a new portal)
LATE = dt.timedelta(days=7)
#: daily, in the portal's time zone: in office hours
REMIND_AT = dt.time(8, 0)

ENDING_TITLE = _("The trial of ${module} ends on ${ends}")
ENDING_BODY = _("The trial of ${module} at ${company} ends on ${ends}. Buy the module under "
                "Company settings > Modules to keep using it.")
ENDED_TITLE = _("The trial of ${module} has ended")
ENDED_BODY = _("The trial of ${module} at ${company} ended on ${ends}. Buy the module under "
               "Company settings > Modules to use it again.")


def _remind(job: JobContext, activation, company, title, body, key: str) -> int:
    module = job.registry["modules.catalogue"].get(activation.module_key)
    if module is None:  # its plugin is gone
        return 0
    values = {"module": module.title, "company": company.name, "ends": activation.trial_ends_at}
    return len(notify(job, AdminsOf(company.id), KIND, title, body, values=values,
                      link=route_path(job, "company_modules", company_id=company.id),
                      dedupe_key=f"{key}:{activation.id}:{activation.trial_ends_at.isoformat()}"))


def remind_of_trials(job: JobContext) -> dict[str, int]:
    """Tell the admins of trials ending within three days, and of trials that have ended;
    returns how many notifications of each went out."""
    ending = job.dbsession.execute(
        select(ModuleActivation, Company).join(Company, Company.id == ModuleActivation.company_id)
        .where(ModuleActivation.state == ModuleState.trial,
               ModuleActivation.trial_ends_at > job.now,
               ModuleActivation.trial_ends_at <= job.now + AHEAD)).all()
    ended = job.dbsession.execute(
        select(ModuleActivation, Company).join(Company, Company.id == ModuleActivation.company_id)
        .where(ModuleActivation.state == ModuleState.expired,
               ModuleActivation.trial_ends_at <= job.now,
               ModuleActivation.trial_ends_at > job.now - LATE)).all()
    return {
        "ending": sum(_remind(job, activation, company, ENDING_TITLE, ENDING_BODY, "trial-ending")
                      for activation, company in ending),
        "ended": sum(_remind(job, activation, company, ENDED_TITLE, ENDED_BODY, "trial-ended")
                     for activation, company in ended),
    }
