"""A module's lifecycle for a company, without HTTP: the ``modules`` fixture.

Each step runs the core's own lifecycle functions (the ones the Modules page and
``mypages modules activate`` run), as the platform, in a transaction of its own that is
committed at once: it is audited and announced to the plugins
(``mypages_module_state_changed``) exactly as when an admin clicks.
"""
from __future__ import annotations

import datetime as dt

import transaction
from sqlalchemy import update

from mypages.companies.models import Company
from mypages.contract import CompanyInfo, JobContext
from mypages.db import session_in_transaction
from mypages.modules import lifecycle
from mypages.modules.expiry import expire_trials
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import clock
from mypages.work import Work


class ModuleSwitch:
    """``activate``, ``buy``, ``expire`` and ``deactivate`` a module for a company (a model
    row, a :class:`~mypages.toolkit.CompanyInfo` or an id); ``state`` reads where it is."""

    def __init__(self, app):
        self.registry = app.registry

    def on(self, app) -> "ModuleSwitch":
        """The same for ``app``, an application of other settings on the same database (one
        with your plugin, built by your conftest): its catalogue, its plugins' hooks."""
        return ModuleSwitch(app)

    def _run(self, action):
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
            return action(dbsession)

    def activate(self, company, key: str) -> None:
        """Start the company's free trial of ``key`` (``mypages_module_state_changed``:
        available -> trial); refused (:class:`~mypages.modules.lifecycle.ModuleError`) if it
        had one."""
        self._run(lambda dbsession: lifecycle.activate(
            Work(dbsession, self.registry), _company_info(dbsession, company), key))

    def buy(self, company, key: str) -> None:
        """Make ``key`` active for the company, from any state but active. The billing hook
        (``mypages_purchase``) is not called: it needs the buying admin's request."""
        self._run(lambda dbsession: lifecycle.buy(
            Work(dbsession, self.registry), _company_info(dbsession, company), key,
            bill=lambda module: None))

    def deactivate(self, company, key: str) -> None:
        """Switch ``key`` off for the company (trial or active -> inactive)."""
        self._run(lambda dbsession: lifecycle.deactivate(
            Work(dbsession, self.registry), _company_info(dbsession, company), key))

    def expire(self, company, key: str) -> None:
        """End the company's running trial of ``key``: its end is moved a second into the
        past, then the core's expiry job runs (trial -> expired), as it would once the trial
        had run out."""
        def move(dbsession):
            now = clock(self.registry).now()
            result = dbsession.execute(
                update(ModuleActivation)
                .where(ModuleActivation.company_id == _company_id(company),
                       ModuleActivation.module_key == key,
                       ModuleActivation.state == ModuleState.trial)
                .values(trial_ends_at=now - dt.timedelta(seconds=1))
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise ValueError(f"company {_company_id(company)} has no running trial of "
                                 f"{key!r} (its state: {self.state(company, key).value})")
            expire_trials(JobContext(dbsession=dbsession, registry=self.registry, now=now,
                                     payload={}, name="modules.expire_trials", key=""))
        self._run(move)

    def state(self, company, key: str) -> ModuleState:
        """Where the company's ``key`` is: available, trial, active, expired or inactive."""
        return self._run(lambda dbsession: lifecycle.state_of(
            lifecycle.activations(dbsession, _company_id(company)).get(key)))


def _company_id(company) -> int:
    return company if isinstance(company, int) else company.id


def _company_info(dbsession, company) -> CompanyInfo:
    if isinstance(company, CompanyInfo):
        return company
    return CompanyInfo.of(dbsession.get(Company, _company_id(company)))
