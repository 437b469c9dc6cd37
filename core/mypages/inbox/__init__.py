"""The notification centre: a bell with the unread count in the top bar, the list of one's
notifications, marked read one by one or all at once, and per kind the choice of e-mail too.

The core and plugins post with :func:`notify` (to people, or to a company's admins), of a
kind some part declares with ``mypages_notification_kinds``. "What's new" entries
(``mypages_whats_new``) arrive as notifications at sign-in, once per person; the trial
reminders come from a job at a time of day (:mod:`mypages.inbox.trials`). A notification
is stored as translation strings and shown in the reader's language; its e-mail goes out
from a queued job, so a page never waits for the mail server.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from mypages.accounts.models import User
from mypages.contract import NotificationKind, WhatsNew
from mypages.inbox.messages import record
from mypages.inbox.models import Notification, NotificationPreference
from mypages.people.members import company_admins
from mypages.plugins import PluginError
from mypages.services import clock, job_queue, registry_of, settings_of
from mypages.web.urls import route_path

KINDS_KEY = "inbox.kinds"
WHATS_NEW_KEY = "inbox.whats_new"
MAIL_JOB = "inbox.mail"
#: the bell shows "99+" beyond this
BELL_MAX = 99


@dataclass(frozen=True)
class AdminsOf:
    """To :func:`notify`: every active admin of the company."""

    company_id: int


def notification_kinds(where) -> dict[str, NotificationKind]:
    """Every kind of notification the core and the enabled plugins declare, by key."""
    return registry_of(where)[KINDS_KEY]


def whats_new(where) -> list[WhatsNew]:
    """Every "What's new" entry of the core and the enabled plugins, newest first."""
    return registry_of(where)[WHATS_NEW_KEY]


def notify(where, to, kind: str, title, body, *, values: dict | None = None,
           link: str | None = None, company_id: int | None = None,
           dedupe_key: str | None = None) -> list[int]:
    """Post a notification to each person of ``to`` in the transaction of ``where`` (a
    request, a job's :class:`~mypages.contract.JobContext`, an
    :class:`~mypages.events.EventContext` or a :class:`~mypages.work.Work`); returns the
    ids of those made.

    ``to`` is user ids, or :class:`AdminsOf` a company (its active admins). ``kind`` is the
    key of a declared :class:`~mypages.contract.NotificationKind`. ``title`` and ``body``
    are translation strings of your domain, whose ``${name}`` placeholders ``values`` fill
    (dates, numbers, money and translation strings are written for each reader as their
    language writes them, when they read it). ``link`` is a path on this site (``/c/7/notes``).
    ``company_id`` is the company it is about (``to``'s, for :class:`AdminsOf`).
    A person gets a ``dedupe_key`` once, however often it is posted. Those who want the kind
    by e-mail get it by e-mail too, after the transaction commits."""
    registry = registry_of(where)
    if kind not in notification_kinds(registry):
        raise ValueError(f"no notification kind {kind!r} is declared")
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError(f"a notification's link is a path on this site, not {link!r}")
    dbsession = where.dbsession
    if isinstance(to, AdminsOf):
        company_id = company_id if company_id is not None else to.company_id
        user_ids = [admin.id for admin in company_admins(dbsession, to.company_id)]
    else:
        user_ids = sorted(set(to))
    if not user_ids:
        return []
    now = clock(registry).now()
    stored = {"kind": kind, "company_id": company_id, "title": record(title, values),
              "body": record(body, values), "link": link, "dedupe_key": dedupe_key,
              "created_at": now}
    dialect = postgresql if dbsession.get_bind().dialect.name == "postgresql" else sqlite
    made = {}
    for user_id in user_ids:
        # DO NOTHING waits for a concurrent insert of the same key, so nobody gets it twice
        made_id = dbsession.execute(
            dialect.insert(Notification).values(user_id=user_id, **stored)
            .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
            .returning(Notification.id)).scalar()
        if made_id is not None:
            made[user_id] = made_id
    by_mail = wants_email(dbsession, registry, list(made), kind)
    for user_id in by_mail:
        job_queue(registry).enqueue(dbsession, MAIL_JOB, {"notification_id": made[user_id]})
    return list(made.values())


def wants_email(dbsession, where, user_ids: Iterable[int], kind: str) -> set[int]:
    """Those of ``user_ids`` who get ``kind`` by e-mail: their choice, else the kind's."""
    user_ids = list(user_ids)
    if not user_ids:
        return set()
    chosen = dict(dbsession.execute(select(NotificationPreference.user_id,
                                           NotificationPreference.email).where(
        NotificationPreference.kind == kind, NotificationPreference.user_id.in_(user_ids))).all())
    default = notification_kinds(where)[kind].email
    return {user_id for user_id in user_ids if chosen.get(user_id, default)}


def email_choices(dbsession, where, user_id: int) -> dict[str, bool]:
    """Per kind, whether the person gets it by e-mail."""
    chosen = dict(dbsession.execute(select(NotificationPreference.kind,
                                           NotificationPreference.email).where(
        NotificationPreference.user_id == user_id)).all())
    return {key: chosen.get(key, kind.email) for key, kind in notification_kinds(where).items()}


def choose_email(dbsession, where, user_id: int, choices: dict[str, bool]) -> None:
    """Save the person's choices; kinds nobody declares are left out."""
    kinds = notification_kinds(where)
    for key, email in choices.items():
        if key in kinds:
            dbsession.merge(NotificationPreference(user_id=user_id, kind=key, email=bool(email)))


def unread_count(user_id_column):
    """The SQL of a person's unread notifications, for the request context's one SELECT."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id_column, Notification.read_at.is_(None))
            .correlate_except(Notification).scalar_subquery())


def deliver_whats_new(where, user_id: int) -> list[int]:
    """The "What's new" entries the person has not had yet: those dated from their
    account's first day up to today (in the portal's time zone)."""
    registry = registry_of(where)
    entries = whats_new(registry)
    if not entries:
        return []
    zone = settings_of(registry).time_zone
    today = clock(registry).now().astimezone(zone).date()
    created = where.dbsession.scalar(select(User.created_at).where(User.id == user_id))
    if created is None:
        return []
    since = created.astimezone(zone).date()
    due = {f"whats-new:{entry.id}": entry for entry in entries if since <= entry.date <= today}
    if not due:
        return []
    had = set(where.dbsession.scalars(select(Notification.dedupe_key).where(
        Notification.user_id == user_id, Notification.dedupe_key.in_(list(due)))))
    made = []
    for key, entry in due.items():
        if key not in had:
            made += notify(where, [user_id], "whats_new", entry.title, entry.body,
                           values={"version": entry.version}, dedupe_key=key,
                           link=route_path(registry, entry.route_name)
                           if entry.route_name else None)
    return made


def build_on_ready(registry) -> None:
    """Gather the kinds and the "What's new" entries of the core and every plugin."""
    pm = registry["plugins.manager"]
    kinds, owners = {}, {}
    for impl in reversed(pm.hook.mypages_notification_kinds.get_hookimpls()):
        for kind in impl.function() or []:
            if kind.key in kinds:
                raise PluginError(impl.plugin_name, f"notification kind {kind.key!r} is "
                                  f"already declared by {owners[kind.key]!r}")
            kinds[kind.key], owners[kind.key] = kind, impl.plugin_name
    entries, entry_owners = {}, {}
    for impl in reversed(pm.hook.mypages_whats_new.get_hookimpls()):
        for entry in impl.function() or []:
            if not isinstance(entry.date, dt.date) or isinstance(entry.date, dt.datetime):
                raise PluginError(impl.plugin_name, f"What's new entry {entry.id!r} has a "
                                  "date that is not a datetime.date")
            if entry.id in entries:
                raise PluginError(impl.plugin_name, f"What's new entry {entry.id!r} is "
                                  f"already shipped by {entry_owners[entry.id]!r}")
            entries[entry.id], entry_owners[entry.id] = entry, impl.plugin_name
    registry[KINDS_KEY] = kinds
    registry[WHATS_NEW_KEY] = sorted(entries.values(), key=lambda e: (e.date, e.id),
                                     reverse=True)


def read_ones(now: dt.datetime, settings):
    """Notifications read longer ago than the retention, and any older than a year."""
    return ((Notification.read_at < now - settings.purge.read_notifications)
            | (Notification.created_at < now - settings.purge.notifications))


def includeme(config):
    config.register_core_hooks("core.inbox", "mypages.inbox.hooks")
    config.include(".getting_started")
    config.on_plugins_ready(build_on_ready)
    config.add_purge_rule("old notifications", Notification, read_ones)
    config.add_route("notifications", "/notifications")
    config.add_route("notifications_read_all", "/notifications/read", request_method="POST")
    config.add_route("notification_read", "/notifications/{notification_id}/read",
                     request_method="POST", ids="notification_id")
    config.add_route("notification_settings", "/account/notifications")
    config.scan(".views")
