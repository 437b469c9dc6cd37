"""Signing in with BankID through the pages, against the fake service over mutual TLS: the
animated QR code, collect every 2 seconds and never after 3 minutes, one order for two tabs,
cancelling, BankID's messages, outages, the real client address, and the audit trail."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from mypages.testing.plugin import audit_actions, audit_events, sessions_of
from mypages.accounts.models import User
from mypages_bankid import identities
from mypages_bankid.fake import Outcome
from mypages_bankid.models import Order
from mypages_bankid.qr import qr_content, qr_data_uri

PNR = "199001011239"
OTHER_PNR = "198112189876"


def link(app, dbsession, user, number=PNR, confirmed=True):
    identities.link(dbsession, app.registry, user.id, number, dbsession_now(), confirmed=confirmed)
    dbsession.commit()


def dbsession_now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def start(web, device="qr", next_url="", purpose_page="/bankid/sign-in", status=303):
    page = web.get(purpose_page, {"next": next_url} if next_url else {})
    return page.forms[f"bankid-{device}"].submit(status=status)


def order_of(dbsession, web_response) -> Order:
    order_id = web_response.location.rsplit("/", 1)[-1]
    dbsession.expire_all()
    return dbsession.get(Order, order_id)


def poll(web, order, clock=None, seconds=2):
    if clock is not None:
        clock.shift(seconds)
    return web.get(f"/bankid/order/{order.id}/status").json


def collects(fake):
    return [r for r in fake.requests if r["path"] == "collect"]


def actions(dbsession):
    dbsession.expire_all()
    return audit_actions(dbsession)


def test_a_person_signs_in_with_the_qr_code_on_another_device(
        bankid_app, browser, fake_bankid, factory, dbsession, clock):
    user = factory.user()
    link(bankid_app, dbsession, user)
    web = browser()
    started = start(web, next_url="/account")
    order = order_of(dbsession, started)
    [auth] = fake_bankid.requests
    assert auth["path"] == "auth" and auth["body"]["endUserIp"] == "192.0.2.10"
    assert "CN=FP Testcert fake" in auth["client"]

    page = started.follow()
    fake_order = fake_bankid.orders[order.order_ref]
    assert page.html.find(id="bankid-qr")["src"] in {
        qr_data_uri(qr_content(fake_order.qr_start_token, fake_order.qr_start_secret, t))
        for t in (0, 1)}
    assert page.html.find(id="bankid-message").text == "Start your BankID app."
    [script] = [tag["src"] for tag in page.html.find_all("script")
                if tag["src"].startswith("/bankid-static/bankid.js")]
    web.get(script, status=200)

    fake_bankid.scan(qr_content(fake_order.qr_start_token, fake_order.qr_start_secret,
                                int(fake_bankid.now() - fake_order.created)))
    state = poll(web, order)
    assert state["message"].startswith("Searching for BankID:s")  # RFA15A, on a computer
    fake_bankid.approve(order.order_ref, {"personalNumber": PNR, "name": "K K",
                                          "givenName": "K", "surname": "K"})
    state = poll(web, order, clock)
    assert state == {"status": "complete", "message": "Done. Continuing…", "qr": None,
                     "done": True}

    signed_in = web.get(f"/bankid/order/{order.id}").forms["bankid-finish"].submit(status=303)
    assert signed_in.location == "http://localhost/account"
    [session] = sessions_of(dbsession, user)
    assert set(session.amr) == {"bankid"}
    trail = actions(dbsession)
    assert trail.index("bankid.started") < trail.index("bankid.completed") < trail.index(
        "account.signed_in")
    # the personal number is nowhere in the trail, nor the QR secret in any answer
    details = " ".join(json.dumps(e.details or {}) + (e.target or "") for e in
                       audit_events(dbsession))
    assert PNR not in details
    # the order was this browser's before the sign-in, whose new session knows it no more
    web.post(f"/bankid/order/{order.id}/finish", {"csrf_token": _csrf(web.get("/account"))},
             status=404)


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_qr_code_changes_every_second_and_its_secret_stays_on_the_server(
        bankid_app, browser, fake_bankid, dbsession, clock):
    web = browser()
    order = order_of(dbsession, start(web))
    first = poll(web, order)["qr"]
    clock.shift(1)
    second = poll(web, order)["qr"]
    assert first != second and first.startswith("data:image/svg+xml")
    secret = fake_bankid.orders[order.order_ref].qr_start_secret
    assert secret not in web.get(f"/bankid/order/{order.id}").text
    assert dbsession.get(Order, order.id).qr_start_secret == secret  # kept encrypted
    raw = dbsession.execute(select(func.count()).select_from(Order).where(
        Order.__table__.c.qr_start_secret.like(f"%{secret}%"))).scalar()
    assert raw == 0


def test_collect_runs_every_2_seconds_whatever_the_page_asks(bankid_app, browser, fake_bankid,
                                                             dbsession, clock):
    web = browser()
    order = order_of(dbsession, start(web))
    for _ in range(3):
        poll(web, order)
    assert len(collects(fake_bankid)) == 1
    clock.shift(1)
    poll(web, order)
    assert len(collects(fake_bankid)) == 1
    clock.shift(1)
    poll(web, order)
    assert len(collects(fake_bankid)) == 2


def test_an_order_is_never_collected_after_3_minutes(bankid_app, browser, fake_bankid,
                                                     dbsession, clock):
    web = browser()
    order = order_of(dbsession, start(web))
    poll(web, order)
    clock.shift(181)
    state = poll(web, order)
    assert state["status"] == "failed" and state["message"].startswith(
        "The BankID app is not responding")
    assert len(collects(fake_bankid)) == 1


def test_an_unknown_personal_number_creates_nothing(bankid_app, browser, fake_bankid, factory,
                                                    dbsession):
    factory.user()
    users = dbsession.scalar(select(func.count()).select_from(User))
    fake_bankid.script(Outcome(person={"personalNumber": OTHER_PNR, "name": "N N",
                                       "givenName": "N", "surname": "N"}))
    web = browser()
    order = order_of(dbsession, start(web))
    state = poll(web, order)
    assert state["status"] == "failed"
    assert state["message"].startswith("No account here is linked to this BankID")
    web.post(f"/bankid/order/{order.id}/finish",
             {"csrf_token": _csrf(web.get(f"/bankid/order/{order.id}"))}, status=400)
    assert dbsession.scalar(select(func.count()).select_from(User)) == users
    assert sessions_of(dbsession) == []
    assert "bankid.failed" in actions(dbsession)


def test_a_number_an_admin_registered_is_confirmed_at_the_first_sign_in(
        bankid_app, browser, fake_bankid, factory, dbsession):
    user = factory.user()
    link(bankid_app, dbsession, user, confirmed=False)
    assert not identities.has_bankid(dbsession, user.id)
    fake_bankid.script("complete")
    web = browser()
    order = order_of(dbsession, start(web))
    assert poll(web, order)["done"]
    web.get(f"/bankid/order/{order.id}").forms["bankid-finish"].submit(status=303)
    dbsession.expire_all()
    assert identities.has_bankid(dbsession, user.id)
    assert "bankid.linked" in actions(dbsession)


def test_two_tabs_get_one_order_and_starting_again_cancels_it(bankid_app, browser, fake_bankid,
                                                              dbsession):
    web = browser()
    page = web.get("/bankid/sign-in")
    first_tab, second_tab = page.forms["bankid-qr"], web.get("/bankid/sign-in").forms["bankid-qr"]
    first_tab["restart"] = second_tab["restart"] = "0"
    one = first_tab.submit(status=303).location
    assert second_tab.submit(status=303).location == one
    assert [r["path"] for r in fake_bankid.requests] == ["auth"]
    # the page's own buttons start again: the old order is cancelled at BankID first
    again = start(web).location
    assert again != one
    assert [r["path"] for r in fake_bankid.requests] == ["auth", "cancel", "auth"]


def test_leaving_the_page_cancels_the_order(bankid_app, browser, fake_bankid, dbsession):
    web = browser()
    order = order_of(dbsession, start(web))
    page = web.get(f"/bankid/order/{order.id}")
    web.post(f"/bankid/order/{order.id}/cancel", {"csrf_token": _csrf(page), "beacon": "1"},
             status=200)
    assert fake_bankid.requests[-1]["path"] == "cancel"
    dbsession.expire_all()
    assert dbsession.get(Order, order.id).status == "cancelled"
    assert "bankid.cancelled" in actions(dbsession)
    # another browser cannot see or cancel it
    browser("198.51.100.1").get(f"/bankid/order/{order.id}", status=404)


def test_the_person_cancelling_at_the_phone_sees_rfa6(bankid_app, browser, fake_bankid, dbsession):
    fake_bankid.script("userCancel")
    web = browser()
    order = order_of(dbsession, start(web))
    assert poll(web, order)["message"] == "Action cancelled."
    page = web.get(f"/bankid/order/{order.id}")
    assert page.html.find(id="bankid-message").text == "Action cancelled."
    assert page.html.find(id="bankid-again") is not None


@pytest.mark.parametrize("locale, text", [
    ("sv", "Åtgärden avbruten."), ("fi", "Toiminto peruttu."), ("da", "Handlingen er annulleret.")])
def test_bankids_messages_are_translated(bankid_app, browser, fake_bankid, dbsession, locale,
                                         text):
    fake_bankid.script("userCancel")
    web = browser()
    web.extra_environ["HTTP_ACCEPT_LANGUAGE"] = locale
    order = order_of(dbsession, start(web))
    assert poll(web, order)["message"] == text


def test_an_outage_shows_rfa5_and_changes_nothing(bankid_app, browser, fake_bankid, dbsession):
    fake_bankid.fail_next("auth", "503", times=3)
    web = browser()
    page = start(web, status=503)
    assert page.html.find(id="bankid-error").text == "Internal error. Please try again."
    assert len(fake_bankid.requests) == 3  # tried again silently, twice
    assert dbsession.scalar(select(func.count()).select_from(Order).where(
        Order.pending_key.is_not(None))) == 0
    start(web)  # and the person can simply try again


def test_an_order_already_in_progress_shows_rfa4(bankid_app, browser, fake_bankid, dbsession):
    fake_bankid.script("alreadyInProgress")
    page = start(browser(), status=409)
    assert page.html.find(id="bankid-error").text.startswith(
        "An identification or signing for this personal number is already started")


def test_an_outage_while_collecting_is_said_and_collecting_goes_on(
        bankid_app, browser, fake_bankid, dbsession, clock):
    web = browser()
    order = order_of(dbsession, start(web))
    fake_bankid.fail_next("collect", "maintenance", times=3)
    state = poll(web, order)
    assert state["status"] == "pending" and state["message"] == "Internal error. Please try again."
    assert poll(web, order, clock)["message"] == "Start your BankID app."


def test_end_user_ip_is_the_client_behind_a_trusted_proxy_only(bankid_app, browser, fake_bankid,
                                                               dbsession):
    proxied = browser("10.0.0.1")
    proxied.extra_environ["HTTP_X_FORWARDED_FOR"] = "198.51.100.66, 203.0.113.9"
    start(proxied)
    direct = browser("192.0.2.77")
    direct.extra_environ["HTTP_X_FORWARDED_FOR"] = "203.0.113.200"
    start(direct)
    assert [r["body"]["endUserIp"] for r in fake_bankid.requests] == ["203.0.113.9",
                                                                      "192.0.2.77"]


def test_the_autostart_link_returns_to_each_browser(bankid_app, browser, fake_bankid, dbsession):
    for agent, link_start, redirect in [
        ("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "bankid:///?", "redirect=null"),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/140 Mobile", "https://app.bankid.com/?",
         "redirect=null"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) CriOS/140 Mobile", "https://app.bankid.com/?",
         "redirect=googlechrome%3A%2F%2F"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Version/18.0 Mobile Safari/604.1",
         "https://app.bankid.com/?", "redirect=http%3A%2F%2Flocalhost%2Fbankid%2Forder%2F"),
    ]:
        web = browser(agent=agent)
        page = start(web, device="same").follow()
        href = page.html.find(id="bankid-autostart")["href"]
        token = fake_bankid.orders[order_of(dbsession, page.request.path and
                                            type("R", (), {"location": page.request.url})()
                                            ).order_ref].auto_start_token
        assert href.startswith(link_start) and f"autostarttoken={token}" in href
        assert redirect in href


def test_anonymous_starts_are_throttled_per_client_address(
        bankid_app, browser, fake_bankid, dbsession, monkeypatch):
    from mypages_bankid import views

    monkeypatch.setattr(views, "ANONYMOUS_STARTS_PER_MINUTE", 3)
    web = browser(address="192.0.2.77")
    for _ in range(3):
        start(web)
    refused = start(web, status=429)
    assert refused.headers["Retry-After"]
    assert "Too many attempts" in refused.html.find(id="bankid-error").text
    assert len([r for r in fake_bankid.requests if r["path"] == "auth"]) == 3
    assert "bankid.start_throttled" in actions(dbsession)
    # another address is not held back
    start(browser(address="192.0.2.78"))
