"""The watch over the audit trail: a job reads each chain's new events shortly after they
are committed and shows each one, once, to the rules that name its action (the core's,
:mod:`mypages.governance.rules`, and the plugins', ``mypages_audit_rules``). An alert a
rule raises is kept for the operators' list and posted to the company's admins (the
operators', for the platform's own trail) as a ``security_alert`` notification.

Requests never wait for it and never fail by it: the rules run in the job worker. Each
chain's cursor (:class:`~mypages.governance.models.AuditWatch`) moves in the transaction
that keeps the alerts of the events it passes, locked first, so an event is judged once even
when two workers run the job; and one alert per rule and event is all the table takes.
"""
from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mypages.accounts.models import User
from mypages.audit.models import AuditChain, AuditEvent
from mypages.contract import (AuditAlert, AuditEventInfo, AuditRuleContext, JobContext,
                              NotificationKind, PeriodicJob)
from mypages.governance.models import AuditWatch, SecurityAlert
from mypages.i18n import _
from mypages.inbox import AdminsOf, notify
from mypages.inbox.messages import record
from mypages.plugins import PluginError
from mypages.services import settings_of
from mypages.web.urls import route_path

log = logging.getLogger(__name__)

RULES_KEY = "governance.audit_rules"
KIND = "security_alert"
#: how often the job looks for new events
EVERY = dt.timedelta(seconds=30)
#: events judged per transaction
BATCH = 500

TITLE = _("Security alert: ${rule}")
#: a company's: whoever is admin of several companies sees which
COMPANY_TITLE = _("Security alert at ${company}: ${rule}")


def kinds() -> list[NotificationKind]:
    return [NotificationKind(KIND, _("Security alerts (to admins)"), email=True)]


def build_on_ready(registry) -> None:
    """Gather the rules of the core and every plugin: ``{key: (rule, plugin name)}``."""
    pm = registry["plugins.manager"]
    rules = {}
    for impl in reversed(pm.hook.mypages_audit_rules.get_hookimpls()):
        for rule in impl.function() or []:
            if rule.key in rules:
                raise PluginError(impl.plugin_name, f"audit rule {rule.key!r} is already "
                                  f"declared by {rules[rule.key][1]!r}")
            rules[rule.key] = (rule, impl.plugin_name)
    registry[RULES_KEY] = rules


def audit_rules(registry) -> dict:
    """Every rule, by key: ``(rule, the name of the plugin that declared it)``."""
    return registry[RULES_KEY]


def _insert(dbsession):
    return postgresql.insert if dbsession.get_bind().dialect.name == "postgresql" \
        else sqlite.insert


def _claim(dbsession, chain_id: int) -> int:
    """Lock the chain's cursor (made at 0 for a new chain) and read it."""
    dbsession.execute(_insert(dbsession)(AuditWatch).values(chain_id=chain_id, watched_seq=0)
                      .on_conflict_do_nothing(index_elements=["chain_id"]))
    return dbsession.execute(
        update(AuditWatch).where(AuditWatch.chain_id == chain_id)
        .values(watched_seq=AuditWatch.watched_seq).returning(AuditWatch.watched_seq)
        .execution_options(synchronize_session=False)).scalar_one()


def _quiet(dbsession, key: str, event: AuditEvent, subject: str) -> bool:
    return dbsession.scalar(select(SecurityAlert.id).where(
        SecurityAlert.rule == key, SecurityAlert.chain_id == event.chain_id,
        SecurityAlert.subject == subject,
        SecurityAlert.quiet_until > event.created_at).limit(1)) is not None


def _judge(job: JobContext, rule, plugin: str, event: AuditEvent) -> AuditAlert | None:
    """The rule's verdict; what it wrote is rolled back, and if it raises it is logged and
    the event passes."""
    context = AuditRuleContext(job.dbsession, job.registry, job.now)
    savepoint = job.dbsession.begin_nested()
    try:
        return rule.judge(context, AuditEventInfo.of(event))
    except Exception:
        log.exception("audit rule %s of plugin %s failed on event %s", rule.key, plugin,
                      event.id)
        return None
    finally:
        savepoint.rollback()


def _link(job: JobContext, event: AuditEvent) -> str:
    if event.company_id is None:
        return route_path(job, "operator_alerts")
    day = event.created_at.astimezone(settings_of(job).time_zone).date()
    query = urlencode({"action": event.action, "from": day.isoformat()})
    return route_path(job, "company_audit", company_id=event.company_id) + "?" + query


def _operators(dbsession) -> list[int]:
    return list(dbsession.scalars(select(User.id).where(User.is_operator.is_(True),
                                                        User.is_active.is_(True))))


def _raise(job: JobContext, rule, event: AuditEvent, alert: AuditAlert) -> SecurityAlert:
    subject = str(alert.subject)[:200]
    row = SecurityAlert(
        rule=rule.key, chain_id=event.chain_id, company_id=event.company_id,
        company_label=event.company_label, event_id=event.id, event_seq=event.seq,
        action=event.action, subject=subject, happened_at=event.created_at,
        quiet_until=event.created_at + alert.quiet_for if alert.quiet_for else None,
        raised_at=job.now, text=record(alert.text, alert.values))
    job.dbsession.add(row)
    job.dbsession.flush()
    to = AdminsOf(event.company_id) if event.company_id is not None \
        else _operators(job.dbsession)
    title = TITLE if event.company_id is None else COMPANY_TITLE
    notify(job, to, KIND, title, alert.text,
           values={**alert.values, "rule": rule.title, "company": event.company_label},
           link=_link(job, event), company_id=event.company_id,
           dedupe_key=f"security-alert:{row.id}")
    return row


def watch_batch(job: JobContext, chain_id: int, rules_of: dict, size: int = BATCH) -> int:
    """Judge the chain's next events (up to ``size``) in ``job``'s transaction and move its
    cursor past them; how many were read."""
    after = _claim(job.dbsession, chain_id)
    events = job.dbsession.scalars(
        select(AuditEvent).where(AuditEvent.chain_id == chain_id, AuditEvent.seq > after)
        .order_by(AuditEvent.seq).limit(size)).all()
    for event in events:
        for rule, plugin in rules_of.get(event.action, ()):
            alert = _judge(job, rule, plugin, event)
            if alert is None:
                continue
            subject = str(alert.subject)[:200]
            if alert.quiet_for and _quiet(job.dbsession, rule.key, event, subject):
                continue
            _raise(job, rule, event, alert)
    if events:
        job.dbsession.execute(update(AuditWatch).where(AuditWatch.chain_id == chain_id)
                              .values(watched_seq=events[-1].seq)
                              .execution_options(synchronize_session=False))
    return len(events)


def _behind(dbsession) -> list[int]:
    """The chains with events the watch has not read."""
    return list(dbsession.scalars(
        select(AuditChain.chain_id)
        .outerjoin(AuditWatch, AuditWatch.chain_id == AuditChain.chain_id)
        .where(or_(AuditWatch.chain_id.is_(None), AuditChain.last_seq > AuditWatch.watched_seq))
        .order_by(AuditChain.chain_id)))


def watch(job: JobContext) -> dict[int, int]:
    """Judge every chain's new events, a short transaction per batch; how many were read
    per chain."""
    rules_of: dict[str, list] = {}
    for rule, plugin in audit_rules(job.registry).values():
        for action in rule.actions:
            rules_of.setdefault(action, []).append((rule, plugin))
    with job.chunk() as chunk:
        chains = _behind(chunk.dbsession)
    read = {}
    for chain_id in chains:
        read[chain_id] = 0
        while True:
            with job.chunk() as chunk:
                count = watch_batch(chunk, chain_id, rules_of)
            read[chain_id] += count
            if count < BATCH:
                break
    return read


def alerts_page(dbsession, before: int | None, size: int = 50):
    """The newest alerts (of every company and the platform), and the ``before`` of the
    next page."""
    query = select(SecurityAlert).order_by(SecurityAlert.id.desc()).limit(size + 1)
    if before is not None:
        query = query.where(SecurityAlert.id < before)
    rows = dbsession.scalars(query).all()
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def kept_no_longer(now: dt.datetime, settings):
    """Alerts go with the events they are about: after the audit trail's retention."""
    return SecurityAlert.happened_at < now - settings.purge.audit_events


def jobs() -> list:
    return [PeriodicJob("audit.watch", watch, every=EVERY)]


def forget_company(dbsession, company_id: int) -> None:
    """Delete what the watch keeps of a company being erased: its alerts, in its chain or
    another, and its chain's place."""
    dbsession.execute(delete(SecurityAlert).where(
        or_(SecurityAlert.company_id == company_id, SecurityAlert.chain_id == company_id))
        .execution_options(synchronize_session=False))
    dbsession.execute(delete(AuditWatch).where(AuditWatch.chain_id == company_id)
                      .execution_options(synchronize_session=False))
