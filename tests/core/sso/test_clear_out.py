"""Used-up sign-in attempts and expired SAML assertion ids are cleared out by a job."""
import datetime as dt

from sqlalchemy import select

from mypages.db import utcnow
from mypages.jobs import Worker
from mypages.sso.models import SamlAssertionSeen, SsoAttempt, SsoConnection


def test_old_attempts_and_expired_assertions_are_cleared_out(app, factory, dbsession):
    company = factory.company()
    connection = SsoConnection(company_id=company.id, provider="saml", protocol="saml", settings={})
    dbsession.add(connection)
    dbsession.flush()
    now = utcnow()
    for name, age in (("old", dt.timedelta(days=2)), ("new", dt.timedelta(minutes=5))):
        dbsession.add(SsoAttempt(state_hash=name, connection_id=connection.id, browser_hash="b",
                                 nonce="n", created_at=now - age))
    for name, expiry in (("gone", now - dt.timedelta(minutes=1)), ("kept", now + dt.timedelta(hours=1))):
        dbsession.add(SamlAssertionSeen(assertion_id=name, connection_id=connection.id,
                                        expires_at=expiry))
    dbsession.commit()

    assert "sso.clear_out" in Worker(app.registry).run_periodic(due_only=False)

    dbsession.expire_all()
    assert dbsession.scalars(select(SsoAttempt.state_hash)).all() == ["new"]
    assert dbsession.scalars(select(SamlAssertionSeen.assertion_id)).all() == ["kept"]
