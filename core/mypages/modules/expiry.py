"""The job that ends trials: a trial is over when this job says so, not when a page is read."""
from __future__ import annotations

from sqlalchemy import select, update

from mypages.companies.models import Company
from mypages.contract import CompanyInfo, JobContext
from mypages.modules.lifecycle import announce
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.events import EventContext


def expire_trials(job: JobContext) -> int:
    """Move every trial whose end has passed to ``expired``; returns how many."""
    due = job.dbsession.execute(
        select(ModuleActivation, Company).join(Company, Company.id == ModuleActivation.company_id)
        .where(ModuleActivation.state == ModuleState.trial, ModuleActivation.trial_ends_at <= job.now)
    ).all()
    expired = 0
    for row, company in due:
        result = job.dbsession.execute(
            update(ModuleActivation)
            .where(ModuleActivation.id == row.id, ModuleActivation.state == ModuleState.trial)
            .values(state=ModuleState.expired, updated_at=job.now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue
        expired += 1
        # hooks get the same record as on a request, never the row of this session
        announce(EventContext.of_job(job, CompanyInfo.of(company)), row.module_key,
                 ModuleState.trial, ModuleState.expired)
    return expired
