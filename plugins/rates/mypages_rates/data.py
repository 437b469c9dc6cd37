"""Rates in a company's data export and erasure: the series it follows, its people's alerts
and notices, and whether it has its own key for a source (never the key)."""
from __future__ import annotations

from sqlalchemy import delete, select

from mypages.toolkit import hookimpl

from mypages_rates.models import Alert, CompanyKey, Follow, Notice, Series


def _series(dbsession, model, company_id: int):
    return dbsession.execute(select(model, Series).join(Series, Series.id == model.series_id)
                             .where(model.company_id == company_id).order_by(model.id)).all()


@hookimpl
def mypages_company_export(context, company, archive):
    dbsession = context.dbsession
    archive.add_rows("follows", [
        {"source": series.source, "series": series.code, "since": follow.created_at}
        for follow, series in _series(dbsession, Follow, company.id)])
    archive.add_rows("alerts", [
        {"id": alert.id, "user_id": alert.user_id, "source": series.source,
         "series": series.code, "kind": alert.kind, "threshold": alert.threshold,
         "basis_points": alert.basis_points, "created_at": alert.created_at}
        for alert, series in _series(dbsession, Alert, company.id)])
    archive.add_rows("notices", [
        {"id": notice.id, "user_id": notice.user_id, "source": series.source,
         "series": series.code, "alert_kind": notice.alert_kind, "day": notice.day,
         "value": notice.value, "previous": notice.previous, "threshold": notice.threshold,
         "created_at": notice.created_at, "read_at": notice.read_at}
        for notice, series in _series(dbsession, Notice, company.id)])
    archive.add_rows("source_keys", [
        {"source": key.source, "key_set": True, "updated_at": key.updated_at}
        for key in dbsession.scalars(select(CompanyKey).where(
            CompanyKey.company_id == company.id).order_by(CompanyKey.source))])


@hookimpl
def mypages_company_erase(context, company):
    for model in (Notice, Alert, Follow, CompanyKey):
        context.dbsession.execute(delete(model).where(model.company_id == company.id))


@hookimpl
def mypages_user_export(context, user, archive):
    dbsession = context.dbsession
    alerts = dbsession.execute(select(Alert, Series).join(Series, Series.id == Alert.series_id)
                               .where(Alert.user_id == user.id).order_by(Alert.id)).all()
    archive.add_rows("alerts", [
        {"company_id": alert.company_id, "source": series.source, "series": series.code,
         "kind": alert.kind, "threshold": alert.threshold, "basis_points": alert.basis_points,
         "created_at": alert.created_at} for alert, series in alerts])
