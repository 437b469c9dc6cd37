"""What the nightly purge deletes of the accounts domain's rows (see mypages.jobs.purge)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import or_

from mypages.accounts import throttle
from mypages.accounts.models import EmailToken, LoginThrottle, UserSession


def ended_sessions(now: dt.datetime, settings):
    """Sessions ended, or past their idle or absolute lifetime, longer ago than the
    retention (a session past its lifetime is ended only when its browser comes back)."""
    keep = settings.purge.ended_sessions
    return or_(UserSession.ended_at < now - keep,
               UserSession.last_seen_at < now - settings.session_idle - keep,
               UserSession.created_at < now - settings.session_absolute - keep)


def used_tokens(now: dt.datetime, settings):
    """E-mail links used or expired longer ago than the retention."""
    keep = settings.purge.used_tokens
    return or_(EmailToken.used_at < now - keep, EmailToken.expires_at < now - keep)


def includeme(config):
    config.add_purge_rule("ended sessions", UserSession, ended_sessions)
    config.add_purge_rule("used e-mail links", EmailToken, used_tokens)
    config.add_purge_rule("old throttling counters", LoginThrottle, throttle.forgotten)
