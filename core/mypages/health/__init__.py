"""Is this installation alive, and can it serve? For load balancers, monitors and operators.

* ``/healthz``: the process answers. Touches nothing else (no database, no session): a
  load balancer or orchestrator restarts a process that stops answering it.
* ``/readyz``: the process can serve. The database is reachable and every distribution's
  migrations are applied; the blob storage takes a small write, read and delete; the job
  queue's backlog and how long its oldest due job has waited; and what the plugins' checks
  (the ``mypages_health_checks`` hook) find. 200 when nothing is ``down``, else 503, so a
  load balancer sends no traffic to an instance that cannot serve it.

Both answer JSON (``Accept: application/json`` or ``?format=json``) for machines and a page
for operators; ``mypages health`` prints the same and exits 1 when something is down.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text

from mypages.contract import HealthCheck
from mypages.db.migrate import applied_revisions, head_revisions, migration_sources
from mypages.i18n import _, localizer_for
from mypages.jobs.models import QueuedJob
from mypages.services import clock, settings_of
from mypages.storage import root_store

log = logging.getLogger(__name__)

OK, WARN, DOWN = HealthCheck.OK, HealthCheck.WARN, HealthCheck.DOWN
_ORDER = {OK: 0, WARN: 1, DOWN: 2}
#: the core's own checks, under the name the core reports them with
CORE = "mypages"
PROBE_PREFIX = "health/"

NAMES = {
    "database": _("Database"),
    "migrations": _("Database migrations"),
    "storage": _("Blob storage"),
    "jobs": _("Job queue"),
}
STATUS_WORDS = {OK: _("OK"), WARN: _("Warning"), DOWN: _("Down")}
NEEDS_DATABASE = _("Not checked: the database cannot be reached.")


@dataclass(frozen=True)
class Finding:
    """A check's finding and who made it: the core (``mypages``) or a plugin, by name."""

    source: str
    check: HealthCheck


@dataclass(frozen=True)
class Report:
    checked_at: dt.datetime
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        return max((finding.check.status for finding in self.findings), key=_ORDER.get,
                   default=OK)

    @property
    def ready(self) -> bool:
        return self.status != DOWN

    def as_json(self, localizer) -> dict:
        """What machines read: statuses, English (or ``localizer``'s) details, and data."""
        return {
            "status": self.status,
            "ready": self.ready,
            "checked_at": self.checked_at.isoformat(),
            "checks": [{"source": finding.source, "name": finding.check.name,
                        "status": finding.check.status,
                        "detail": localizer.translate(finding.check.detail)
                        if finding.check.detail else "",
                        "data": finding.check.data} for finding in self.findings],
        }


def _error(error: Exception) -> str:
    """What an error is, without its message: messages may carry addresses or names."""
    return type(error).__name__


def _database(registry) -> HealthCheck:
    try:
        with registry["db.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("readiness: the database cannot be reached (%s)", _error(error))
        return HealthCheck("database", DOWN, _("Cannot be reached (${error}).",
                                               mapping={"error": _error(error)}))
    return HealthCheck("database", OK, _("Reachable."))


def _heads(registry, source) -> set[str]:
    """The scripts' heads do not change while the process runs: read once."""
    cache = registry.setdefault("health.heads", {})
    if source.distribution not in cache:
        cache[source.distribution] = head_revisions(source, registry["db.engine"])
    return cache[source.distribution]


def _migrations(registry) -> HealthCheck:
    behind = {}
    with registry["db.engine"].connect() as connection:
        for source in migration_sources(registry):
            applied, heads = applied_revisions(connection, source.version_table), _heads(registry, source)
            if applied != heads:
                behind[source.distribution] = {"applied": sorted(applied), "head": sorted(heads)}
    if behind:
        return HealthCheck("migrations", DOWN, _(
            "Not at the newest revision: ${distributions}. Run: mypages db upgrade",
            mapping={"distributions": ", ".join(sorted(behind))}), {"behind": behind})
    return HealthCheck("migrations", OK, _("Every distribution is at its newest revision."))


def _storage(registry) -> HealthCheck:
    store = root_store(registry)
    key = f"{PROBE_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}"
    data = {"backend": store.backend}
    probe = b"mypages readiness probe"
    try:
        store.put(key, probe, "text/plain")
        try:
            written = store.get(key)[1] == probe
        finally:
            store.delete(key)
    except Exception as error:
        log.warning("readiness: the blob storage (%s) failed (%s)", store.backend, _error(error))
        return HealthCheck("storage", DOWN, _(
            "A small blob cannot be written, read and deleted (${backend}: ${error}).",
            mapping={"backend": store.backend, "error": _error(error)}), data)
    if not written:
        return HealthCheck("storage", DOWN, _(
            "A small blob read back differs from what was written (${backend}).",
            mapping={"backend": store.backend}), data)
    return HealthCheck("storage", OK, _("Writes, reads and deletes (${backend}).",
                                        mapping={"backend": store.backend}), data)


def _jobs(registry, now: dt.datetime) -> HealthCheck:
    due = (QueuedJob.finished_at.is_(None), QueuedJob.run_after <= now)
    with registry["db.engine"].connect() as connection:
        count, oldest = connection.execute(
            select(func.count(QueuedJob.id), func.min(QueuedJob.run_after)).where(*due)).one()
    if not count:
        return HealthCheck("jobs", OK, _("Nothing is waiting."), {"due": 0,
                                                                  "oldest_due_seconds": 0})
    if oldest.tzinfo is None:  # SQLite gives what it stored, in UTC
        oldest = oldest.replace(tzinfo=dt.timezone.utc)
    waited = max(now - oldest, dt.timedelta(0))
    data = {"due": count, "oldest_due_seconds": int(waited.total_seconds())}
    limit = settings_of(registry).health_job_delay
    mapping = {"due": count, "minutes": int(waited.total_seconds() // 60),
               "limit": int(limit.total_seconds() // 60)}
    if waited > limit:
        return HealthCheck("jobs", WARN, _(
            "${due} due; the oldest has waited ${minutes} min, longer than ${limit} min. Are "
            "the job workers running?", mapping=mapping), data)
    return HealthCheck("jobs", OK, _("${due} due; the oldest has waited ${minutes} min.",
                                     mapping=mapping), data)


def _plugins(registry, now: dt.datetime) -> list[Finding]:
    """Each plugin's checks on their own: one that raises is ``down``, the others still run."""
    findings = []
    hook = registry["plugins.manager"].hook.mypages_health_checks
    for impl in reversed(hook.get_hookimpls()):
        try:
            with registry["db.session_factory"]() as dbsession:  # rolled back when closed
                kwargs = {"registry": registry, "now": now, "dbsession": dbsession}
                checks = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
                checks = list(checks or ())
            if not all(isinstance(check, HealthCheck) for check in checks):
                raise TypeError("mypages_health_checks must return HealthCheck records")
        except Exception as error:
            log.exception("plugin %s failed in mypages_health_checks", impl.plugin_name)
            checks = [HealthCheck(impl.plugin_name, DOWN, _(
                "The check failed with an error (${error}).",
                mapping={"error": _error(error)}))]
        findings.extend(Finding(impl.plugin_name, check) for check in checks)
    return findings


def readiness(registry) -> Report:
    """Every check, the core's first; never raises for what a check finds."""
    now = clock(registry).now()
    database = _database(registry)
    core = [database]
    for name, check in (("migrations", lambda: _migrations(registry)),
                        ("jobs", lambda: _jobs(registry, now))):
        if database.status == DOWN:
            core.append(HealthCheck(name, DOWN, NEEDS_DATABASE))
            continue
        try:
            core.append(check())
        except Exception as error:  # the database went away between the checks
            log.warning("readiness: %s failed (%s)", name, _error(error))
            core.append(HealthCheck(name, DOWN, _("Cannot be checked (${error}).",
                                                  mapping={"error": _error(error)})))
    core.insert(2, _storage(registry))
    findings = [Finding(CORE, check) for check in core] + _plugins(registry, now)
    return Report(now, tuple(findings))


def english(registry):
    """The localizer of what machines and the command line read."""
    return localizer_for(registry, "en")


def includeme(config):
    config.add_route("healthz", "/healthz")
    config.add_route("readyz", "/readyz")
    config.scan(".views")
