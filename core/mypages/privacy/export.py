"""Exporting a company's data: asked for by a company admin or an operator, built by a
queued job into one zip in the company's blob store, downloaded once by whoever asked,
before it expires; then the blob is deleted. Every step is audited.

The job reads everything in one transaction (one snapshot: the archive is consistent) and
writes its progress in short ones of their own, so the page can show it meanwhile."""
from __future__ import annotations

import datetime as dt
import logging
import tempfile
import zipfile

from sqlalchemy import select, update

from mypages.companies.models import Company
from mypages.contract import CompanyInfo, JobContext, PeriodicJob, QueuedJobType, UserInfo
from mypages.accounts.models import User
from mypages.events import EventContext
from mypages.i18n import _
from mypages.inbox import notify
from mypages.plugins import plugin_hooks
from mypages.privacy.archive import ExportArchive
from mypages.privacy.models import (DOWNLOADED, EXPIRED, FAILED, PENDING, QUEUED, READY,
                                    RUNNING, DataExport)
from mypages.refusals import Refusal
from mypages.storage import BlobNotFound, blob_store
from mypages.work import Work

log = logging.getLogger(__name__)

JOB = "privacy.export"
#: how long a finished archive waits to be downloaded
KEEP_FOR = dt.timedelta(hours=48)
#: the blobs of exports, in the company's store; never exported themselves
PREFIX = "exports/"
CLEAN_EVERY = dt.timedelta(hours=1)
#: an export still not made after this long will not be (its job gave up): it fails, so
#: that the company can ask again
GIVE_UP_AFTER = dt.timedelta(days=1)
#: the notification that the archive is ready
READY_KIND = "privacy.export_ready"


class ExportRefused(Refusal):
    status = 409


def latest(dbsession, company_id: int) -> list[DataExport]:
    return list(dbsession.scalars(select(DataExport).where(DataExport.company_id == company_id)
                                  .order_by(DataExport.id.desc()).limit(10)))


def request_export(work: Work, company: CompanyInfo) -> DataExport:
    """Queue the export of all ``company``'s data, for the actor to download; refused while
    another one of the company is on its way or waiting to be downloaded."""
    dbsession = work.dbsession
    # the company row locked: two admins asking at once make one export
    dbsession.execute(select(Company.id).where(Company.id == company.id).with_for_update())
    if dbsession.scalar(select(DataExport.id).where(DataExport.company_id == company.id,
                                                    DataExport.status.in_(PENDING))):
        raise ExportRefused(_("An export of the company's data is already being made or "
                              "waits to be downloaded."))
    export = DataExport(company_id=company.id, requested_by_id=work.actor.user_id,
                        status=QUEUED, created_at=work.now())
    dbsession.add(export)
    dbsession.flush()
    work.enqueue(JOB, {"export_id": export.id})
    work.audit("data.export_requested", company=company, target=f"export {export.id}")
    return export


def _progress(job: JobContext, export_id: int, **values) -> None:
    with job.chunk() as chunk:
        chunk.dbsession.execute(update(DataExport).where(DataExport.id == export_id)
                                .values(**values).execution_options(synchronize_session=False))


def _folders(registry) -> list[tuple[str, object]]:
    """(the archive's folder, the implementation) of every exporter: the core's in
    ``core/``, each plugin's in a folder named after it."""
    core = registry.get("plugins.core", set())
    return [("core" if impl.plugin_name in core else impl.plugin_name, impl)
            for impl in reversed(plugin_hooks(registry).mypages_company_export.get_hookimpls())]


def build(job: JobContext) -> None:
    """The queued job: write the archive of the export ``payload["export_id"]``."""
    export_id = job.payload["export_id"]
    with job.chunk() as reading:
        if reading.dbsession.get_bind().dialect.name == "postgresql":
            # one snapshot for every query of the archive (SQLite's read transaction is one)
            reading.dbsession.connection(
                execution_options={"isolation_level": "REPEATABLE READ"})
        export = reading.dbsession.get(DataExport, export_id)
        if export is None or export.status not in (QUEUED, RUNNING):
            return  # erased with its company, or ended by an earlier run
        company = CompanyInfo.of(reading.dbsession.get(Company, export.company_id))
        try:
            key, size = _write(job, reading.dbsession, export, company)
        except _PluginFailed as failed:
            _fail(job, export_id, company, failed.plugin)
            return
        except Exception:
            log.exception("the export %s of company %s failed", export_id, company.id)
            _fail(job, export_id, company, "core")
            return
    with job.chunk() as chunk:
        export = chunk.dbsession.get(DataExport, export_id, with_for_update=True)
        if export is None:  # the company was erased meanwhile: nothing may stay
            blob_store(job, company).delete(key)
            return
        export.status, export.blob_key, export.size = READY, key, size
        export.steps_done = export.steps_total
        export.finished_at, export.expires_at = job.now, job.now + KEEP_FOR
        chunk.audit("data.export_ready", company_id=company.id, target=f"export {export_id}",
                    bytes=size)
        if export.requested_by_id is not None:
            is_operator = chunk.dbsession.scalar(select(User.is_operator).where(
                User.id == export.requested_by_id))
            notify(chunk, [export.requested_by_id], READY_KIND,
                   _("Your data export is ready"),
                   _("The archive of ${company}'s data can be downloaded once, until "
                     "${expires}."), values={"company": company.name,
                                             "expires": export.expires_at},
                   link=(f"/operator/companies/{company.id}" if is_operator
                         else f"/c/{company.id}/settings/data"), company_id=company.id)


class _PluginFailed(Exception):
    def __init__(self, plugin: str):
        super().__init__(plugin)
        self.plugin = plugin


def _write(job: JobContext, dbsession, export: DataExport, company: CompanyInfo):
    """Write the archive and store it: (its key, its size)."""
    requester = (dbsession.get(User, export.requested_by_id)
                 if export.requested_by_id is not None else None)
    context = EventContext(dbsession, job.registry, job.now, company,
                           UserInfo.of(requester) if requester is not None else None)
    store = blob_store(job, company)
    blobs = [info for info in store.list() if not info.key.startswith(PREFIX)]
    exporters = _folders(job.registry)
    total, done = len(exporters) + len(blobs) + 1, 0
    _progress(job, export.id, status=RUNNING, steps_done=0, steps_total=total)
    key = f"{PREFIX}{export.id}-{job.key or 'cli'}.zip"
    with tempfile.TemporaryFile() as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zip_file:
            archive = ExportArchive(zip_file, "")
            for folder, impl in exporters:
                given = {"context": context, "company": company,
                         "archive": archive.scoped(folder)}
                try:
                    impl.function(**{name: given[name] for name in impl.argnames})
                except Exception as exc:
                    log.exception("plugin %s failed to export company %s", impl.plugin_name,
                                  company.id)
                    raise _PluginFailed(impl.plugin_name) from exc
                done += 1
                _progress(job, export.id, steps_done=done)
            for info in blobs:
                try:
                    with store.stream(info.key) as stream:
                        archive.add_blob(f"blobs/{info.key}", stream)
                except BlobNotFound:
                    pass  # deleted since it was listed
                done += 1
                if done % 20 == 0:
                    _progress(job, export.id, steps_done=done)
            archive.finish({"company": {"id": company.id, "name": company.name,
                                        "org_number": company.org_number},
                            "exported_at": job.now.isoformat(), "export_id": export.id})
        size = file.tell()
        file.seek(0)
        store.put(key, file, "application/zip")
    return key, size


def _fail(job: JobContext, export_id: int, company: CompanyInfo, plugin: str) -> None:
    with job.chunk() as chunk:
        export = chunk.dbsession.get(DataExport, export_id)
        if export is not None:
            export.status, export.error, export.finished_at = FAILED, plugin, job.now
            chunk.audit("data.export_failed", company_id=company.id,
                        target=f"export {export_id}", plugin=plugin)


def claim_download(work: Work, company: CompanyInfo, export_id: int):
    """Take the export's archive for download, once: (the export, its blob opened for
    reading). Refused (404) unless the actor asked for it, it is ready, and not expired."""
    now = work.now()
    claimed = work.dbsession.execute(
        update(DataExport).where(DataExport.id == export_id,
                                 DataExport.company_id == company.id,
                                 DataExport.requested_by_id == work.actor.user_id,
                                 DataExport.status == READY, DataExport.expires_at > now)
        .values(status=DOWNLOADED, downloaded_at=now)
        .execution_options(synchronize_session=False)).rowcount
    export = work.dbsession.get(DataExport, export_id)
    if not claimed or export is None:
        raise ExportRefused(_("This export cannot be downloaded: it was downloaded already, "
                              "has expired, or is not yours."), status=404)
    try:
        stream = blob_store(work.registry, company).stream(export.blob_key)
    except BlobNotFound:
        raise ExportRefused(_("This export cannot be downloaded: it was downloaded already, "
                              "has expired, or is not yours."), status=404) from None
    work.audit("data.export_downloaded", company=company, target=f"export {export_id}",
               bytes=export.size)
    return export, stream


def forget_blob(registry, company_id: int, key: str) -> None:
    """After the download: the archive is gone."""
    try:
        blob_store(registry, company_id).delete(key)
    except Exception:  # the cleaning job tries again
        log.exception("the downloaded export %s of company %s could not be deleted", key,
                      company_id)


def clean(job: JobContext) -> int:
    """The periodic job: expire archives not downloaded in time, delete the blobs of those
    downloaded or expired; how many blobs went."""
    gone = 0
    with job.chunk() as chunk:
        stale = chunk.dbsession.scalars(select(DataExport).where(
            ((DataExport.status == READY) & (DataExport.expires_at <= job.now))
            | (DataExport.status.in_((DOWNLOADED, EXPIRED, FAILED))
               & DataExport.blob_key.is_not(None))).limit(500)).all()
        for export in stale:
            if export.blob_key:
                blob_store(job, export.company_id).delete(export.blob_key)
                gone += 1
            if export.status == READY:
                export.status = EXPIRED
                chunk.audit("data.export_expired", company_id=export.company_id,
                            target=f"export {export.id}")
            export.blob_key = None
        for export in chunk.dbsession.scalars(select(DataExport).where(
                DataExport.status.in_((QUEUED, RUNNING)),
                DataExport.created_at < job.now - GIVE_UP_AFTER).limit(500)):
            export.status, export.error, export.finished_at = FAILED, "core", job.now
            chunk.audit("data.export_failed", company_id=export.company_id,
                        target=f"export {export.id}", plugin="core")
    return gone


def jobs() -> list:
    return [QueuedJobType(JOB, build, max_attempts=3),
            PeriodicJob("privacy.clean_exports", clean, every=CLEAN_EVERY)]

