"""A module's per-company settings: a JSON document kept through expiry and deactivation."""
from __future__ import annotations

from sqlalchemy import select

from mypages.modules.models import ModuleSettings
from mypages.services import clock


def get_module_settings(request, module_key: str) -> dict:
    row = request.dbsession.scalars(select(ModuleSettings).where(
        ModuleSettings.company_id == request.company.id, ModuleSettings.module_key == module_key
    )).one_or_none()
    return dict(row.values) if row is not None else {}


def save_module_settings(request, module_key: str, values: dict) -> None:
    row = request.dbsession.scalars(select(ModuleSettings).where(
        ModuleSettings.company_id == request.company.id, ModuleSettings.module_key == module_key
    )).one_or_none()
    if row is None:
        row = ModuleSettings(company_id=request.company.id, module_key=module_key, values={})
        request.dbsession.add(row)
    row.values = dict(values)
    row.updated_at = clock(request).now()
