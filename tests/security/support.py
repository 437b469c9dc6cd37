"""Helpers for the attack cases: real browsers (TestApp), real rows, real time steps."""
from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pyotp
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from sqlalchemy import func, inspect, select, text
from webtest import TestApp

from mypages.accounts import SESSION_COOKIE
from mypages.accounts.models import TotpCredential, UserSession
from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.i18n import Plural
from mypages.testing.hostile import fill  # noqa: F401  (the tests here take it from support)
from mypages.testing.plugin import build_app, csrf_token

STEP = 30


def browser(app, ip: str = "127.0.0.1", **environ) -> TestApp:
    """A browser of its own (own cookies) coming from ``ip``."""
    return TestApp(app, extra_environ={"REMOTE_ADDR": ip, "HTTP_HOST": "localhost", **environ})


@contextmanager
def second_app(settings: dict, **overrides):
    """Another instance of the application (another worker) on the same database."""
    app = build_app(dict(settings, **overrides), migrate=False)
    try:
        yield app
    finally:
        app.registry["db.engine"].dispose()


def everything(engine, but: tuple[str, ...] = ("audit_events", "audit_chains")) -> dict[str, list]:
    """Every row of every table (the core's and the plugins'), but those of ``but``."""
    with engine.connect() as conn:
        return {table: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{table}"')).all()))
                for table in inspect(conn).get_table_names() if table not in but}


def count(dbsession, model, *where) -> int:
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model).where(*where))


def actions(dbsession) -> list[str]:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def live_sessions(dbsession, user_id: int | None = None) -> list[UserSession]:
    dbsession.expire_all()
    where = [UserSession.ended_at.is_(None)]
    if user_id is not None:
        where.append(UserSession.user_id == user_id)
    return dbsession.scalars(select(UserSession).where(*where)).all()


def session_cookie(testapp) -> str | None:
    return testapp.cookies.get(SESSION_COOKIE)


def translated(app, message, locale: str = "sv") -> str:
    directories = app.registry.queryUtility(ITranslationDirectories, default=[])
    localizer = make_localizer(locale, directories)
    if isinstance(message, Plural):
        return localizer.pluralize(str(message), message.plural, message.n,
                                   domain=message.domain, mapping=message.mapping)
    return localizer.translate(message)


# -- TOTP ----------------------------------------------------------------------

def current_step() -> int:
    return int(time.time() // STEP)


def steady_step(clock, margin: float = 4.0) -> int:
    """The current step, the ``clock`` moved on to the next one if this one ends within
    ``margin`` seconds, so a test's arithmetic on steps cannot straddle a boundary."""
    left = STEP - time.time() % STEP
    if left < margin:
        clock.shift(left + 0.05)
    return current_step()


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP)


def add_totp(app, dbsession, user, last_used_step: int = 0) -> str:
    """A confirmed authenticator for ``user``, stored as enrolment stores it; returns the secret."""
    secret = pyotp.random_base32()
    dbsession.add(TotpCredential(user_id=user.id, secret_encrypted=app.registry["crypto"].encrypt(secret),
                                 confirmed_at=utcnow(), last_used_step=last_used_step))
    dbsession.commit()
    return secret


def enrol(testapp) -> tuple[str, list[str]]:
    """Turn 2FA on through the pages; returns (secret, recovery codes)."""
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"}, status=303)
    page = testapp.get("/account/two-factor")
    secret = page.html.find(id="totp-secret").text.strip()
    form = page.forms["confirm-form"]
    form["code"] = pyotp.TOTP(secret).now()
    done = form.submit(status=200)
    return secret, [li.text.strip() for li in done.html.find(id="recovery-codes").find_all("li")]


def submit_code(testapp, code: str, status=None):
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = code
    return form.submit(status=status)


def age_proofs(dbsession, user_id: int, minutes: int = 60) -> None:
    """Make every proof in the user's live sessions ``minutes`` old."""
    old = (utcnow() - dt.timedelta(minutes=minutes)).isoformat()
    for row in live_sessions(dbsession, user_id):
        row.amr = {method: old for method in row.amr}
    dbsession.commit()


# -- mail ----------------------------------------------------------------------

def run_jobs(app) -> int:
    from mypages.jobs import Worker

    return Worker(app.registry).run_queued()


def link_in(message) -> str:
    """The one link in a received mail, as a path on the site."""
    from mypages.testing.smtp import link_in as full_link

    return urlsplit(full_link(message)).path


# -- redirects -----------------------------------------------------------------

def assert_stays_on_site(location: str, tried: str = "") -> None:
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), (tried, location)
    assert parts.path.startswith("/") and not parts.path.startswith(("//", "/\\")), (tried, location)
    assert "\\" not in location and not parts.scheme.startswith("javascript"), (tried, location)
