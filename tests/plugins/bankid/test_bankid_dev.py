"""Offline BankID for ``make run``: with ``bankid.environment = fake`` the fake service starts
beside the portal, and ``/_dev/bankid/`` plays the phone (scan, approve, cancel)."""
from __future__ import annotations

import importlib
import re
import sys

import pytest
from sqlalchemy import text

from mypages.testing.plugin import build_app, sessions_of
from mypages.toolkit import utcnow
from mypages_bankid import identities
from mypages_bankid.dev import DEMO_PERSONAL_NUMBER


@pytest.fixture(scope="session")
def mypages_dev_bankid_app(mypages_settings, bankid_site):
    sys.path.insert(0, str(bankid_site))
    importlib.invalidate_caches()
    try:
        built = build_app(dict(mypages_settings, **{"mypages.dev_features": "true",
                                                    "bankid.environment": "fake"}))
    finally:
        sys.path.remove(str(bankid_site))
        importlib.invalidate_caches()
    yield built
    built.registry["db.engine"].dispose()


@pytest.fixture
def dev_web(app, mypages_dev_bankid_app):
    from webtest import TestApp

    yield TestApp(mypages_dev_bankid_app, extra_environ={
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost", "HTTP_ACCEPT_LANGUAGE": "en"})
    with mypages_dev_bankid_app.registry["db.engine"].begin() as connection:
        connection.execute(text("DELETE FROM bankid_orders"))
        connection.execute(text("DELETE FROM bankid_identities"))


def _phone_act(phone, action):
    form = [f for f in phone.forms.values()
            if f.fields.get("action") and f["action"].value == action and "order" in f.fields][0]
    return form.submit(status=303).follow()


def test_the_phone_page_scans_and_approves_offline(mypages_dev_bankid_app, dev_web, factory,
                                                   dbsession):
    user = factory.user()
    identities.link(dbsession, mypages_dev_bankid_app.registry, user.id, DEMO_PERSONAL_NUMBER,
                    utcnow(), confirmed=True)
    dbsession.commit()
    assert "/_dev/bankid/" in dev_web.get("/_dev/").text
    order_page = dev_web.get("/bankid/sign-in").forms["bankid-qr"].submit(status=303).follow()
    order_id = order_page.request.path.rsplit("/", 1)[-1]

    phone = dev_web.get("/_dev/bankid/")
    phone = _phone_act(phone, "scan")
    phone = _phone_act(phone, "approve")
    assert "No order is waiting." in phone.text

    assert dev_web.get(f"/bankid/order/{order_id}/status").json["done"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', order_page.text).group(1)
    dev_web.post(f"/bankid/order/{order_id}/finish", {"csrf_token": csrf}, status=303)
    [session] = sessions_of(dbsession, user)
    assert set(session.amr) == {"bankid"}


def test_the_phone_cancels(dev_web):
    order_page = dev_web.get("/bankid/sign-in").forms["bankid-qr"].submit(status=303).follow()
    order_id = order_page.request.path.rsplit("/", 1)[-1]
    _phone_act(dev_web.get("/_dev/bankid/"), "cancel")
    assert dev_web.get(f"/bankid/order/{order_id}/status").json["message"] == "Action cancelled."


def test_without_development_features_there_is_no_phone(bankid_app, browser):
    browser().get("/_dev/bankid/", status=404)
