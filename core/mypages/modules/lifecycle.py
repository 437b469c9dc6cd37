"""The module lifecycle (for company admins: docs/admin/modules.rst).

::

    available --activate--> trial --buy--> active
    trial --(ends_at passes, job)--> expired --buy--> active
    trial|active --deactivate--> inactive --buy--> active

One trial per company and module. Every transition is audited and
announced through ``mypages_module_state_changed``. A refused action raises
:class:`ModuleError` (or the billing plugin's
:class:`~mypages.contract.PurchaseRefused`), a refusal: the transaction is
then aborted, so it changes nothing. The functions take a
:class:`~mypages.work.Work`: a view, a job and the command line call them alike.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Callable

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError

from mypages.contract import Module
from mypages.db import PreparedRead, utcnow
from mypages.i18n import _
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.modules.terms import close_order, paid_from
from mypages.plugins import notify
from mypages.events import EventContext
from mypages.refusals import Refusal
from mypages.work import Work


class ModuleError(Refusal):
    """A refused module action, with a translatable message for the admin."""


def entitled_clause(now: dt.datetime):
    return or_(
        ModuleActivation.state == ModuleState.active,
        and_(ModuleActivation.state == ModuleState.trial, ModuleActivation.trial_ends_at > now),
    )


def entitled_keys(dbsession, company_id: int, now: dt.datetime) -> frozenset[str]:
    return frozenset(dbsession.scalars(
        select(ModuleActivation.module_key)
        .where(ModuleActivation.company_id == company_id, entitled_clause(now))
    ))


def is_entitled(dbsession, company_id: int, module_key: str,
                now: dt.datetime | None = None) -> bool:
    """Whether the company may use the module at ``now``: its trial runs, or it was bought.
    ``now`` defaults to the current time; a job passes its ``job.now`` (the application's
    clock)."""
    return dbsession.scalar(
        select(ModuleActivation.id).where(
            ModuleActivation.company_id == company_id, ModuleActivation.module_key == module_key,
            entitled_clause(now or utcnow())).limit(1)) is not None


def entitled_companies(dbsession, module_key: str, now: dt.datetime | None = None) -> list[int]:
    """The ids of every company entitled to the module at ``now``, in ascending order: what a
    job of the module goes through."""
    return list(dbsession.scalars(
        select(ModuleActivation.company_id).where(
            ModuleActivation.module_key == module_key, entitled_clause(now or utcnow()))
        .order_by(ModuleActivation.company_id)))


ENTITLED_LABEL = "entitled_modules"


def entitled_column(company_id_column, now):
    """The keys of the modules a company is entitled to, comma-separated, as a column labelled
    for :func:`entitled_from_mapping` (NULL when there are none)."""
    # a literal separator: a bound one is rendered into the SQL again on every execution
    return (select(func.aggregate_strings(ModuleActivation.module_key, literal_column("','")))
            .where(ModuleActivation.company_id == company_id_column, entitled_clause(now))
            .scalar_subquery().label(ENTITLED_LABEL))


def entitled_from_mapping(mapping) -> frozenset[str]:
    """The entitled module keys of a row holding :func:`entitled_column`."""
    keys = mapping[ENTITLED_LABEL]
    return frozenset(keys.split(",")) if keys else frozenset()


def activations(dbsession, company_id: int) -> dict[str, ModuleActivation]:
    rows = dbsession.scalars(select(ModuleActivation).where(ModuleActivation.company_id == company_id))
    return {row.module_key: row for row in rows}


#: what :func:`state_of` and :func:`days_left` read of a company's activations, as plain rows
#: (for :func:`mypages.db.read_all`: no ORM session for a request that only reads them)
ACTIVATION_STATES = PreparedRead(
    select(ModuleActivation.module_key, ModuleActivation.state, ModuleActivation.trial_ends_at)
    .where(ModuleActivation.company_id == bindparam("company_id")))


def state_of(row: ModuleActivation | None) -> ModuleState:
    return row.state if row is not None else ModuleState.available


def days_left(row: ModuleActivation, now: dt.datetime) -> int:
    return days_until(row.trial_ends_at, now)


def days_until(ends_at: dt.datetime, now: dt.datetime) -> int:
    """Whole days left until ``ends_at``, a part of a day counting as one."""
    return max(0, math.ceil((ends_at - now).total_seconds() / 86400))


def _module(registry, key: str):
    module = registry["modules.catalogue"].get(key)
    if module is None:
        raise ModuleError(_("There is no module called \"${key}\".", mapping={"key": key[:64]}))
    return module


AUDIT_ACTIONS = {
    ModuleState.trial: "module.trial_started",
    ModuleState.active: "module.purchased",
    ModuleState.inactive: "module.deactivated",
    ModuleState.expired: "module.expired",
}


def announce(context: EventContext, key: str, old: ModuleState, new: ModuleState) -> None:
    """Audit the transition of ``context.company``'s module and tell every plugin, in the
    change's transaction (the same records whether a request or a job made it)."""
    context.audit(AUDIT_ACTIONS[new], target=key, module=key, old_state=old.value,
                  new_state=new.value)
    hook = context.registry["plugins.manager"].hook.mypages_module_state_changed
    notify(hook, context, context=context, company=context.company, module_key=key,
           old_state=old, new_state=new, user=context.user, actor=context.user)


def _announce(work: Work, company, key: str, old: ModuleState, new: ModuleState) -> None:
    announce(work.event(company), key, old, new)


def activate(work: Work, company, key: str) -> ModuleActivation:
    """Start the module's free trial; only ever once per company and module."""
    module = _module(work.registry, key)
    existing = activations(work.dbsession, company.id).get(key)
    if existing is not None:
        raise _already(existing.state)
    now = work.now()
    row = ModuleActivation(company_id=company.id, module_key=key, state=ModuleState.trial,
                           trial_started_at=now, trial_ends_at=now + dt.timedelta(days=module.trial_days),
                           updated_at=now)
    work.dbsession.add(row)
    try:
        work.dbsession.flush()
    except IntegrityError:  # a concurrent click won the race
        raise ModuleError(_("This module has already been activated."))
    _announce(work, company, key, ModuleState.available, ModuleState.trial)
    return row


def _already(state: ModuleState) -> ModuleError:
    if state == ModuleState.active:
        return ModuleError(_("This module is already active."))
    if state == ModuleState.trial:
        return ModuleError(_("The trial of this module is already running."))
    return ModuleError(_("The free trial of this module has already been used. "
                         "Buy the module to use it again."))


def _move(work: Work, row: ModuleActivation, old: ModuleState, **values) -> None:
    """Conditional UPDATE: only moves the row if nobody moved it since we read it."""
    result = work.dbsession.execute(
        update(ModuleActivation)
        .where(ModuleActivation.id == row.id, ModuleActivation.state == old)
        .values(updated_at=work.now(), **values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise ModuleError(_("The module was changed by someone else meanwhile. "
                            "Reload the page and try again."))


def buy(work: Work, company, key: str, bill: Callable[[Module], object]):
    """Make the module active. ``bill(module)`` bills the company (a view passes the
    ``mypages_purchase`` hook with its request) and returns the order, or raises
    :class:`~mypages.contract.PurchaseRefused`. Bought during its trial, the module is
    billed from the trial's end (``billing_starts_at``): buying never cuts a trial short."""
    module = _module(work.registry, key)
    row = activations(work.dbsession, company.id).get(key)
    old = state_of(row)
    if old == ModuleState.active:
        raise ModuleError(_("This module is already active."))
    now = work.now()
    starts = paid_from(row, now)
    if row is None:
        row = ModuleActivation(company_id=company.id, module_key=key, state=ModuleState.active,
                               purchased_at=now, billing_starts_at=starts, updated_at=now)
        work.dbsession.add(row)
        try:
            work.dbsession.flush()
        except IntegrityError:
            raise ModuleError(_("This module is already active."))
    else:
        _move(work, row, old, state=ModuleState.active, purchased_at=now,
              billing_starts_at=starts)
    # a PurchaseRefused from the billing plugin is a refusal like ModuleError
    order = bill(module)
    _announce(work, company, key, old, ModuleState.active)
    return order


def deactivate(work: Work, company, key: str) -> None:
    """Switch the module off; its settings are kept for a later purchase. Billing stops at
    once (there is no notice period): the open order ends now."""
    _module(work.registry, key)
    row = activations(work.dbsession, company.id).get(key)
    old = state_of(row)
    if old not in (ModuleState.trial, ModuleState.active):
        raise ModuleError(_("This module is not active, so it cannot be deactivated."))
    _move(work, row, old, state=ModuleState.inactive)
    close_order(work.dbsession, company.id, key, work.now())
    _announce(work, company, key, old, ModuleState.inactive)
