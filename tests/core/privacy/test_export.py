"""A company's data export: asked for by an admin (or an operator), built by a job with
its progress on the page, downloaded once by whoever asked, before it expires; audited."""
import datetime as dt
import io
import json
import zipfile

import pytest
from sqlalchemy import select, update

from mypages.audit.models import AuditEvent
from mypages.jobs.models import QueuedJob
from mypages.privacy.models import DataExport
from mypages.storage import blob_store
from mypages.testing.plugin import enrol_two_factor, sign_in


@pytest.fixture
def company(app, factory):
    company = factory.company("Exporting AB", org_number="556036-0793")
    factory.user("admin@export.se", company=company, role="admin", display_name="Ada")
    factory.user("member@export.se", company=company, display_name="Max")
    factory.user("second@export.se", company=company, role="admin")
    blob_store(app, company).put("contracts/signed.pdf", b"%PDF-1.4 the contract", "application/pdf")
    return company


def _actions(dbsession, company_id):
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEvent.action).where(
        AuditEvent.chain_id == company_id).order_by(AuditEvent.seq)))


def test_an_admin_exports_waits_downloads_once_and_the_archive_holds_everything(
        app, testapp, company, run_jobs, dbsession):
    sign_in(testapp, "admin@export.se")
    page = testapp.get(f"/c/{company.id}/settings/data")
    page = page.forms["export-form"].submit().follow()
    row = page.html.select_one("#exports tbody tr")
    assert row["data-status"] == "queued"
    # the page looks again by itself while the export is on its way
    assert page.html.select_one('meta[http-equiv="refresh"]') is not None
    assert page.forms["export-form"].fields["csrf_token"]  # and the button waits
    assert "disabled" in page.html.select_one("#export-form button").attrs

    assert "privacy.export" in run_jobs().queued
    page = testapp.get(f"/c/{company.id}/settings/data")
    assert page.html.select_one("#exports tbody tr")["data-status"] == "ready"
    assert page.html.select_one('meta[http-equiv="refresh"]') is None
    link = page.html.select_one("#exports a[download]")["href"]

    download = testapp.get(link)
    assert download.content_type == "application/zip"
    assert download.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(download.body))
    names = set(archive.namelist())
    assert {"manifest.json", "core/company.json", "core/company.csv", "core/people.json",
            "core/people.csv", "core/audit_events.json",
            "blobs/contracts/signed.pdf"} <= names
    assert archive.read("blobs/contracts/signed.pdf") == b"%PDF-1.4 the contract"
    people = json.loads(archive.read("core/people.json"))
    assert sorted(p["email"] for p in people) == ["admin@export.se", "member@export.se",
                                                   "second@export.se"]
    assert "password_hash" not in archive.read("core/people.json").decode()
    assert json.loads(archive.read("core/company.json"))[0]["org_number"] == "556036-0793"
    assert "Exporting AB" in archive.read("core/company.csv").decode()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["files"]["core/people.json"]["rows"] == 3
    # no archive in the archive
    assert not [name for name in names if name.startswith("blobs/exports/")]

    # once: the second try is refused, and the blob is gone
    testapp.get(link, status=404)
    assert list(blob_store(app, company).list("exports/")) == []
    assert _actions(dbsession, company.id)[-3:] == [
        "data.export_requested", "data.export_ready", "data.export_downloaded"]


def test_only_whoever_asked_downloads_and_members_cannot_export(
        app, testapp, company, run_jobs):
    sign_in(testapp, "admin@export.se")
    testapp.get(f"/c/{company.id}/settings/data").forms["export-form"].submit()
    run_jobs()
    export_id = app.registry["db.session_factory"]().scalar(select(DataExport.id))
    testapp.reset()
    sign_in(testapp, "second@export.se")
    page = testapp.get(f"/c/{company.id}/settings/data")
    assert page.html.select_one("#exports a[download]") is None
    testapp.get(f"/c/{company.id}/settings/data/exports/{export_id}/archive.zip", status=404)
    testapp.reset()
    sign_in(testapp, "member@export.se")
    testapp.get(f"/c/{company.id}/settings/data", status=403)
    testapp.post(f"/c/{company.id}/settings/data", status=403, expect_errors=True)


def test_a_second_export_waits_for_the_first(testapp, company):
    sign_in(testapp, "admin@export.se")
    page = testapp.get(f"/c/{company.id}/settings/data")
    form = page.forms["export-form"]
    form.submit()
    refused = form.submit(status=409)
    assert "already being made" in refused.text
    assert len(refused.html.select("#exports tbody tr")) == 1


def test_an_archive_not_downloaded_in_time_expires_and_its_blob_goes(
        app, testapp, company, run_jobs, clock, dbsession):
    sign_in(testapp, "admin@export.se")
    testapp.get(f"/c/{company.id}/settings/data").forms["export-form"].submit()
    run_jobs()
    link = testapp.get(f"/c/{company.id}/settings/data").html.select_one(
        "#exports a[download]")["href"]
    clock.shift(0, days=3)
    testapp.reset()
    sign_in(testapp, "admin@export.se")
    testapp.get(link, status=404)
    run_jobs()
    export = dbsession.scalar(select(DataExport))
    assert (export.status, export.blob_key) == ("expired", None)
    assert list(blob_store(app, company).list("exports/")) == []
    assert "data.export_expired" in _actions(dbsession, company.id)


def test_an_operator_exports_a_company_from_its_page(app, testapp, factory, company,
                                                     run_jobs):
    factory.user("ops@platform.se", is_operator=True)
    sign_in(testapp, "ops@platform.se")
    enrol_two_factor(testapp)
    page = testapp.get(f"/operator/companies/{company.id}")
    page.forms["export-form"].submit().follow()
    run_jobs()
    page = testapp.get(f"/operator/companies/{company.id}")
    archive = zipfile.ZipFile(io.BytesIO(testapp.get(
        page.html.select_one("#exports a[download]")["href"]).body))
    assert "core/people.csv" in archive.namelist()


def test_an_export_whose_job_gave_up_fails_a_day_later_so_another_can_be_asked_for(
        app, testapp, company, run_jobs, clock, dbsession):
    sign_in(testapp, "admin@export.se")
    testapp.get(f"/c/{company.id}/settings/data").forms["export-form"].submit()
    dbsession.execute(update(QueuedJob).where(QueuedJob.name == "privacy.export")
                      .values(finished_at=QueuedJob.created_at, last_error="gave up"))
    dbsession.commit()
    clock.shift(0, days=1, hours=1)
    run_jobs()
    dbsession.expire_all()
    assert dbsession.scalar(select(DataExport.status)) == "failed"
    testapp.reset()
    testapp.set_cookie("mypages_locale", "en")
    sign_in(testapp, "admin@export.se")
    page = testapp.get(f"/c/{company.id}/settings/data")
    assert page.html.select_one("#exports tbody tr")["data-status"] == "failed"
    page.forms["export-form"].submit(status=303)
