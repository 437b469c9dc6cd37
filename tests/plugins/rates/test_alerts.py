"""Alerts: a member is told by e-mail in their own language and in the app, once per crossing
of a threshold and once per move of more than N basis points."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from mypages.testing.services import RecordingMailer
from mypages.toolkit import Mailer
from mypages_rates.models import Alert, Notice


@pytest.fixture
def mail(replace_service):
    return replace_service(Mailer, RecordingMailer())


@pytest.fixture
def swestr(run_jobs, rates_company, follow):
    [series] = follow(rates_company, "riksbank_swestr", "SWESTR")
    run_jobs()
    return series


def add_alert(testapp, company, series, **fields):
    page = testapp.get(f"/c/{company.id}/rates")
    form = page.forms["alert-form"]
    form["series_id"] = str(series.id)
    for name, value in fields.items():
        form[name] = value
    return form.submit()


def publish(feeds, now, run_jobs, value):
    """The next bank day's SWESTR, fetched."""
    feeds.today = feeds.today + dt.timedelta(days=3)  # Friday to Monday
    day = max(feeds.values("SWESTR"))
    feeds.republish("SWESTR", day, Decimal(value))
    now.advance(days=3)
    assert run_jobs()["failed"] == []
    return day


def test_a_crossing_fires_once_by_mail_in_the_members_language_and_in_the_app(
        testapp, signed_in, rates_company, swestr, feeds, now, run_jobs, dbsession, mail):
    signed_in(rates_company.member)  # Swedish
    latest = feeds.values("SWESTR")[max(feeds.values("SWESTR"))]
    threshold = latest + Decimal("0.5")
    assert add_alert(testapp, rates_company, swestr, kind="above",
                     threshold=str(threshold).replace(".", ",")).status_int == 303

    publish(feeds, now, run_jobs, threshold + Decimal("0.1"))
    publish(feeds, now, run_jobs, threshold + Decimal("0.2"))  # still above: no second alert

    [sent] = mail.to(rates_company.member.email)
    assert sent.subject == "Räntelarm: SWESTR"
    assert str(threshold).replace(".", ",") in sent.body
    assert len(dbsession.scalars(select(Notice)).all()) == 1
    signed_in(rates_company.member)  # the clock moved on past the session's life
    page = testapp.get(f"/c/{rates_company.id}/rates")
    assert page.html.find(id="notices") is not None


def test_a_move_of_more_than_n_basis_points_fires(testapp, signed_in, rates_company, swestr,
                                                  feeds, now, run_jobs, dbsession, mail):
    signed_in(rates_company.admin)
    latest = feeds.values("SWESTR")[max(feeds.values("SWESTR"))]
    add_alert(testapp, rates_company, swestr, kind="move", basis_points="10")

    publish(feeds, now, run_jobs, latest + Decimal("0.05"))  # 5 bp: nothing
    assert mail.sent == []
    publish(feeds, now, run_jobs, latest + Decimal("0.20"))  # 15 bp
    [sent] = mail.to(rates_company.admin.email)
    assert "basis points" in sent.body


def test_the_alerts_list_writes_basis_points_in_the_readers_plural_form(
        testapp, signed_in, rates_company, swestr):
    signed_in(rates_company.member)  # Swedish
    for points in ("1", "2"):
        add_alert(testapp, rates_company, swestr, kind="move", basis_points=points)
    page = testapp.get(f"/c/{rates_company.id}/rates")
    alerts = [" ".join(item.get_text(" ").split()) for item in page.html.find_all("li")]
    assert "SWESTR: rör sig mer än 1 baspunkt Ta bort" in alerts
    assert "SWESTR: rör sig mer än 2 baspunkter Ta bort" in alerts


@pytest.mark.parametrize("fields", [{"kind": "above", "threshold": "abc"},
                                    {"kind": "move", "basis_points": "0"},
                                    {"kind": "sideways"}])
def test_a_bad_alert_is_refused_and_changes_nothing(testapp, signed_in, rates_company, swestr,
                                                    dbsession, fields):
    signed_in(rates_company.member)
    page = testapp.get(f"/c/{rates_company.id}/rates")
    form = page.forms["alert-form"]
    form["series_id"] = str(swestr.id)
    for name, value in fields.items():
        if name == "kind" and value == "sideways":
            form["kind"].force_value(value)
        else:
            form[name] = value
    assert form.submit(status=400).html.find(class_="error") is not None
    assert dbsession.scalars(select(Alert)).all() == []


def test_an_exchange_rate_is_told_with_the_four_decimals_it_is_published_with(
        testapp, signed_in, rates_company, follow, feeds, now, run_jobs, mail):
    [series] = follow(rates_company, "riksbank_swea", "SEKEURPMI")
    assert run_jobs()["failed"] == []
    signed_in(rates_company.member)  # Swedish
    assert add_alert(testapp, rates_company, series, kind="above",
                     threshold="99,5").status_int == 303
    feeds.today = feeds.today + dt.timedelta(days=3)
    day = max(feeds.values("SEKEURPMI"))
    feeds.republish("SEKEURPMI", day, Decimal("100.1230"))
    now.advance(days=3)
    assert run_jobs()["failed"] == []

    [sent] = mail.to(rates_company.member.email)
    assert "100,1230" in sent.body and "99,5000" in sent.body
