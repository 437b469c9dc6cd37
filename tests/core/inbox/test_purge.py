"""The nightly purge takes notifications read long ago, and any older than a year."""
import datetime as dt

from sqlalchemy import select

from mypages.inbox.models import Notification
from mypages.jobs import Worker
from mypages.settings import parse

DAY = dt.timedelta(days=1)
TEXT = {"msgid": "x", "domain": None, "default": "x", "mapping": {}}


def test_read_ones_go_after_ninety_days_and_every_one_after_a_year(app, factory, dbsession):
    user = factory.user()
    now = dt.datetime.now(dt.timezone.utc)

    def made(name, created, read=None):
        return Notification(user_id=user.id, kind="sso", title=TEXT, body=TEXT, created_at=created,
                            read_at=read, dedupe_key=name)

    dbsession.add_all([made("read-long-ago", now - 100 * DAY, now - 91 * DAY),
                       made("read-lately", now - 100 * DAY, now - 89 * DAY),
                       made("unread", now - 364 * DAY),
                       made("unread-for-a-year", now - 366 * DAY)])
    dbsession.commit()
    result = Worker(app.registry).run_once()
    assert "jobs.purge" in result["periodic"] and result["failed"] == []
    dbsession.expire_all()
    assert sorted(dbsession.scalars(select(Notification.dedupe_key))) == ["read-lately", "unread"]


def test_how_long_they_are_kept_is_set_in_days(mypages_settings):
    purge = parse(dict(mypages_settings, **{"mypages.purge.read_notifications_days": "30",
                                            "mypages.purge.notifications_days": "400"})).purge
    assert (purge.read_notifications, purge.notifications) == (30 * DAY, 400 * DAY)
