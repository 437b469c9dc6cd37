"""What's new: each entry reaches each person once, at sign-in, from its date on, and not
those who came after it."""
import datetime as dt
import types

import pytest
from sqlalchemy import select

from mypages.contract import NotificationKind, WhatsNew
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.inbox import WHATS_NEW_KEY, build_on_ready, deliver_whats_new
from mypages.inbox.models import Notification
from mypages.plugins import PluginError, make_plugin_manager
from mypages.testing.plugin import work_as
from mypages.testing.web import sign_in

TODAY = dt.date(2026, 12, 10)


def entry(id_, day, route_name=None):
    return WhatsNew(id_, day, _("Notifications"), _("Your notifications"), version="0.1",
                    route_name=route_name)


@pytest.fixture
def entries(app, monkeypatch, clock):
    clock.move_to(dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.timezone.utc))
    shipped = [entry("later", dt.date(2026, 12, 24)),
               entry("today", TODAY, route_name="notification_settings"),
               entry("old", dt.date(2026, 11, 1))]
    monkeypatch.setitem(app.registry, WHATS_NEW_KEY, shipped)
    return shipped


def keys(dbsession, user):
    dbsession.expire_all()
    return sorted(dbsession.scalars(select(Notification.dedupe_key).where(
        Notification.user_id == user.id)))


def test_signing_in_brings_the_entries_due_once(app, testapp, factory, dbsession, entries):
    user = factory.user(created_at=dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc))
    sign_in(testapp, user.email)
    assert keys(dbsession, user) == ["whats-new:old", "whats-new:today"]
    today = dbsession.scalar(select(Notification).where(
        Notification.dedupe_key == "whats-new:today"))
    assert (today.kind, today.link) == ("whats_new", "/account/notifications")
    testapp.reset()
    sign_in(testapp, user.email)  # again, and after reading: never twice
    dbsession.execute(Notification.__table__.update().values(read_at=dt.datetime.now(dt.timezone.utc)))
    dbsession.commit()
    testapp.reset()
    sign_in(testapp, user.email)
    assert keys(dbsession, user) == ["whats-new:old", "whats-new:today"]


def test_newcomers_are_not_told_what_was_new_before_they_came(app, factory, dbsession,
                                                               entries, clock):
    newcomer = factory.user(created_at=dt.datetime(2026, 12, 5, tzinfo=dt.timezone.utc))
    with work_as(app) as (work, _c):
        deliver_whats_new(work, newcomer.id)
    assert keys(dbsession, newcomer) == ["whats-new:today"]
    clock.move_to(dt.datetime(2026, 12, 24, 9, 0, tzinfo=dt.timezone.utc))
    with work_as(app) as (work, _c):
        deliver_whats_new(work, newcomer.id)
    assert keys(dbsession, newcomer) == ["whats-new:later", "whats-new:today"]


def _plugin(name, **hooks):
    plugin = types.ModuleType(name)
    for hook, function in hooks.items():
        setattr(plugin, hook, hookimpl(function))
    return plugin


def test_two_parts_shipping_one_entry_id_or_kind_stop_start_up():
    for hook, made in (("mypages_whats_new", lambda: [entry("same", TODAY)]),
                       ("mypages_notification_kinds",
                        lambda: [NotificationKind("same", _("Notifications"))])):
        pm = make_plugin_manager()
        pm.register(_plugin("first", **{hook: made}), name="first")
        pm.register(_plugin("second", **{hook: made}), name="second")
        with pytest.raises(PluginError, match="'same' is already"):
            build_on_ready({"plugins.manager": pm})
