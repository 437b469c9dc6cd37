"""Buying a module as a company admin does it: a summary first, then the order page, a receipt
by mail to the admins in their languages, the order on the Billing tab; buying in a trial keeps
the trial, and deactivating says when billing stops."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from mypages.jobs import Worker
from mypages.modules.models import ModuleActivation, ModuleState, Order
from mypages.testing.plugin import csrf_token, sign_in
from mypages.testing.smtp import body_of

NBSP = "\xa0"


def browser(app):
    return TestApp(app, extra_environ={"REMOTE_ADDR": "10.0.0.1", "HTTP_HOST": "localhost"})


@pytest.fixture
def shop(mail_app, factory):
    """A company whose admin (English) is signed in; a second admin reads Swedish, a member
    English."""
    company = factory.company("Exempel AB", default_locale="sv")
    admin = factory.user("ada@example.se", company=company, role="admin", locale="en")
    other = factory.user("olle@example.se", company=company, role="admin", locale="sv")
    member = factory.user("max@example.se", company=company, locale="en")
    client = browser(mail_app)
    sign_in(client, admin.email)
    return client, company, admin, other, member


def post(client, company, path, **fields):
    token = csrf_token(client, f"/c/{company.id}/")
    return client.post(f"/c/{company.id}{path}", {"csrf_token": token, **fields})


def activation(dbsession, company, key="notes"):
    dbsession.expire_all()
    return dbsession.scalars(select(ModuleActivation).where(
        ModuleActivation.company_id == company.id, ModuleActivation.module_key == key)).one()


def text_of(element) -> str:
    return element.text.strip()


def test_the_summary_shows_price_with_and_without_vat_period_notice_and_the_trial_rule(
        shop, dbsession):
    client, company, *_ = shop
    post(client, company, "/settings/modules/notes/activate")
    modules = client.get(f"/c/{company.id}/settings/modules")
    card = modules.html.find(id="module-notes")
    assert "excl. VAT" in card.find(class_="price").text
    # "Buy" leads to the summary; it changes nothing by itself
    buy = card.find("a", string="Buy")["href"]
    summary = client.get(buy).html
    assert activation(dbsession, company).state == ModuleState.trial
    assert text_of(summary.find(id="price-excluding")) == f"SEK{NBSP}49.00"
    assert text_of(summary.find(id="price-vat")) == f"SEK{NBSP}12.25"
    assert text_of(summary.find(id="price-including")) == f"SEK{NBSP}61.25"
    assert "Monthly" in summary.find(id="billing-period").text
    assert "None: billing stops on the day you deactivate" in summary.find(id="notice-period").text
    assert "Your free trial continues until" in summary.find(id="trial-rule").text
    assert summary.find("h1").text.strip() == "Buy Notes"


def test_buying_in_the_trial_keeps_the_trial_bills_from_its_end_and_shows_the_order(
        shop, dbsession, clock):
    client, company, *_ = shop
    post(client, company, "/settings/modules/notes/activate")
    clock.shift(3600)  # an hour into the trial
    done = post(client, company, "/settings/modules/notes/buy")
    row = activation(dbsession, company)
    order = dbsession.scalars(select(Order)).one()
    assert done.status_int == 303
    assert done.location.endswith(f"/c/{company.id}/settings/billing/orders/{order.id}")
    assert row.state == ModuleState.active
    assert order.starts_at == row.trial_ends_at == row.billing_starts_at
    assert (order.amount, order.currency, order.vat_percent, order.period) == (
        Decimal("49.00"), "SEK", Decimal("25.00"), "month")
    page = done.follow().html
    confirmation = page.find(id="order-confirmation")
    assert "Thank you! Notes is now active." in confirmation.text
    assert f"SEK{NBSP}61.25" in confirmation.text
    # the order is on the company's Billing tab, with the terms and the VAT note
    billing = client.get(f"/c/{company.id}/settings/billing").html
    assert billing.find("tr", attrs={"data-order": str(order.id)})
    assert "Swedish VAT of 25 % is added" in billing.find(id="billing-terms").text
    assert billing.find("h1").text.strip() == "Billing"


def test_buying_without_a_trial_bills_from_today(shop, dbsession, clock):
    client, company, *_ = shop
    summary = client.get(f"/c/{company.id}/settings/modules/notes/buy").html
    assert "You skip the free trial" in summary.find(id="trial-rule").text
    post(client, company, "/settings/modules/notes/buy")
    order = dbsession.scalars(select(Order)).one()
    assert abs(order.starts_at - clock.now()) < dt.timedelta(seconds=5)


def test_the_receipt_goes_to_the_buyer_and_the_other_admins_in_their_languages(
        shop, mail_app, smtp_server):
    client, company, admin, other, member = shop
    post(client, company, "/settings/modules/notes/buy")
    Worker(mail_app.registry).run_queued()
    [english] = smtp_server.to(admin.email)
    [swedish] = smtp_server.to(other.email)
    assert smtp_server.to(member.email) == []
    assert english["Subject"] == "Receipt: Notes for Exempel AB"
    assert f"Price per month including VAT: SEK{NBSP}61.25" in body_of(english)
    assert swedish["Subject"] == "Kvitto: Anteckningar för Exempel AB"
    assert f"61,25{NBSP}kr" in body_of(swedish)


def test_an_order_of_another_company_is_not_found(shop, factory, dbsession):
    client, company, *_ = shop
    elsewhere = factory.company("Annat AB")
    order = Order(company_id=elsewhere.id, module_key="notes", price="49 SEK")
    dbsession.add(order)
    dbsession.commit()
    client.get(f"/c/{company.id}/settings/billing/orders/{order.id}", status=404)
    billing = client.get(f"/c/{company.id}/settings/billing").html
    assert not billing.find("a", href=lambda href: href and href.endswith(f"/orders/{order.id}"))
    assert "Annat AB" not in billing.text and "No orders yet." in billing.text


def test_deactivating_asks_first_and_says_when_billing_stops(shop, dbsession, clock):
    client, company, *_ = shop
    post(client, company, "/settings/modules/notes/buy")
    clock.shift(3600)
    modules = client.get(f"/c/{company.id}/settings/modules").html
    dialog = modules.find("dialog", id="deactivate-notes")
    assert "billing stops today" in dialog.text
    # without JavaScript the link leads to a page that asks the same
    link = modules.find("a", attrs={"data-confirm": "deactivate-notes"})["href"]
    asked = client.get(link).html
    assert "billing stops today" in asked.find(id="confirmation").text
    assert activation(dbsession, company).state == ModuleState.active  # asking changes nothing
    done = post(client, company, "/settings/modules/notes/deactivate").follow()
    assert "billing stopped today" in done.html.find(class_="notice").text
    order = dbsession.scalars(select(Order)).one()
    dbsession.refresh(order)
    assert abs(order.ends_at - clock.now()) < dt.timedelta(seconds=5)


def test_deactivating_a_trial_says_nothing_is_billed(shop, dbsession):
    client, company, *_ = shop
    post(client, company, "/settings/modules/notes/activate")
    asked = client.get(f"/c/{company.id}/settings/modules/notes/deactivate").html
    assert "Nothing is billed" in asked.find(id="confirmation").text
    done = post(client, company, "/settings/modules/notes/deactivate").follow()
    assert "Nothing is billed" in " ".join(p.text for p in done.html.find_all(class_="notice"))
    assert dbsession.scalar(select(func.count()).select_from(Order)) == 0
