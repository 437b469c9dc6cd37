"""Single-use, time-limited links sent by e-mail; only their hash is stored."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select, update

from mypages.accounts.models import EmailToken
from mypages.db import utcnow

LIFETIME = {"reset": dt.timedelta(hours=1), "invite": dt.timedelta(days=7)}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(dbsession, purpose: str, *, user_id=None, invitation_id=None,
          now: dt.datetime | None = None) -> str:
    """A new link's token, valid from ``now`` (the application's clock's: a job's ``now``)."""
    token = secrets.token_urlsafe(32)
    expires_at = (now or utcnow()) + LIFETIME[purpose]
    dbsession.add(EmailToken(token_hash=_digest(token), purpose=purpose, user_id=user_id,
                             invitation_id=invitation_id, expires_at=expires_at))
    return token


def issue_for_job(dbsession, secret: str, job_key: str, purpose: str, *, user_id=None,
                  invitation_id=None, now: dt.datetime) -> str | None:
    """The token of a link that a queued job (its ``key``) e-mails: stored the first time,
    the same token again when the job runs again (a worker may have died after sending it),
    so every e-mail the job sends carries the one working link. ``None`` once that link is
    used or expired: there is nothing left to send.

    Derived with ``secret`` (the installation's, from the environment), so the database
    alone holds no usable token."""
    if not job_key:
        raise ValueError("a queued job's key is needed")
    digest = hmac.new(secret.encode(), f"email-token:{purpose}:{job_key}".encode(),
                      hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    row = dbsession.scalars(select(EmailToken).where(
        EmailToken.token_hash == _digest(token))).one_or_none()
    if row is None:
        dbsession.add(EmailToken(token_hash=_digest(token), purpose=purpose, user_id=user_id,
                                 invitation_id=invitation_id,
                                 expires_at=now + LIFETIME[purpose]))
        return token
    return token if row.used_at is None and row.expires_at > now else None


def find(dbsession, purpose: str, token: str, now: dt.datetime | None = None) -> EmailToken | None:
    """The token, if unused and unexpired at ``now``; else None."""
    return dbsession.scalars(select(EmailToken).where(
        EmailToken.token_hash == _digest(token), EmailToken.purpose == purpose,
        EmailToken.used_at.is_(None), EmailToken.expires_at > (now or utcnow()))).one_or_none()


def use(dbsession, row: EmailToken, now: dt.datetime | None = None) -> bool:
    """Mark used; False if someone else used it first."""
    return dbsession.execute(
        update(EmailToken).where(EmailToken.id == row.id, EmailToken.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)).rowcount == 1
