"""A module's per-company settings: a JSON document kept through expiry and deactivation.

Read and written from a request (``request.company``'s) or, naming the company, from a job
or an event hook: ``get_module_settings(job, "reminders", company_id=7)``.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mypages.db import utcnow
from mypages.modules.models import ModuleSettings
from mypages.services import clock


def _where(where, company_id: int | None) -> tuple[Session, int]:
    dbsession = where if isinstance(where, Session) else where.dbsession
    if company_id is None:
        company = getattr(where, "company", None)
        if company is None:
            raise TypeError("company_id is needed where there is no company (a job, a "
                            "session): get_module_settings(job, key, company_id=...)")
        company_id = company.id
    return dbsession, company_id


def _row(dbsession: Session, company_id: int, module_key: str) -> ModuleSettings | None:
    return dbsession.scalars(select(ModuleSettings).where(
        ModuleSettings.company_id == company_id, ModuleSettings.module_key == module_key
    )).one_or_none()


def get_module_settings(request, module_key: str, company_id: int | None = None) -> dict:
    """The settings of the module ``module_key`` for a company, as a new dict (empty when
    none were saved). ``request`` is a request, or where there is none a
    :class:`~mypages.contract.JobContext`, an :class:`~mypages.events.EventContext` or a
    SQLAlchemy session; the company is ``company_id``, else the request's or the event's
    (``request.company``, ``context.company``)."""
    dbsession, company_id = _where(request, company_id)
    row = _row(dbsession, company_id, module_key)
    return dict(row.values) if row is not None else {}


def save_module_settings(request, module_key: str, values: dict,
                         company_id: int | None = None) -> None:
    """Replace the settings of the module ``module_key`` for a company with ``values``
    (JSON-serialisable), in the transaction of ``request`` (or of the job or the event);
    ``request`` and ``company_id`` as for :func:`get_module_settings`."""
    dbsession, company_id = _where(request, company_id)
    row = _row(dbsession, company_id, module_key)
    if row is None:
        row = ModuleSettings(company_id=company_id, module_key=module_key, values={})
        dbsession.add(row)
    row.values = dict(values)
    row.updated_at = clock(request).now() if hasattr(request, "registry") else utcnow()
