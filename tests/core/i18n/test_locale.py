"""Which language a page is in, through real requests.

The rules (mypages.i18n): the user's own setting (or, before sign-in, the
language-switcher cookie), then the company's default on company pages, then
Accept-Language, then Swedish.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from babel import numbers
from sqlalchemy import select

from mypages.accounts.models import User
from mypages.i18n import LOCALE_COOKIE
from mypages.testing.plugin import csrf_token

SIGN_IN = {"sv": "Logga in", "en": "Sign in", "da": "Log ind", "nb": "Logg inn", "fi": "Kirjaudu sisään",
           "lt": "Prisijungti", "lv": "Pieteikties", "et": "Logi sisse"}
DASHBOARD = {"sv": "Översikt", "en": "Dashboard", "da": "Oversigt", "nb": "Oversikt", "fi": "Yleiskatsaus"}
HTML_LANG = re.compile(r'<html lang="([^"]+)"')


def page_language(page) -> str:
    return HTML_LANG.search(page.text).group(1)


def login_page(testapp, accept_language: str | None = None):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return testapp.get("/login", headers=headers)


def switch_language(testapp, locale: str, path: str = "/login"):
    return testapp.post("/locale", {"csrf_token": csrf_token(testapp, path), "locale": locale,
                                    "next": path}, status=303)


def test_accept_language_picks_a_supported_language(testapp):
    page = login_page(testapp, "fi")
    assert page_language(page) == "fi"
    assert SIGN_IN["fi"] in page.text
    assert SIGN_IN["sv"] not in page.text


@pytest.mark.parametrize("accept_language, expected", [
    ("ee", "et"),                       # the common misspelling of Estonian
    ("et-EE", "et"),
    ("no", "nb"),                       # Norwegian visitors get Bokmål
    ("nb-NO", "nb"),
    ("nn", "nb"),
    ("en-GB,en;q=0.9", "en"),
    ("de-DE, lv;q=0.5, lt;q=0.8", "lt"),  # the best supported one by quality, not by order
    ("da;q=0, fr", "sv"),                 # q=0 means "not this one"
])
def test_accept_language_is_mapped_to_a_supported_language(testapp, accept_language, expected):
    page = login_page(testapp, accept_language)
    assert page_language(page) == expected
    assert SIGN_IN[expected] in page.text


@pytest.mark.parametrize("accept_language", [None, "de-DE, fr;q=0.8", "zz"])
def test_unknown_or_no_language_falls_back_to_swedish(testapp, accept_language):
    page = login_page(testapp, accept_language)
    assert page_language(page) == "sv"
    assert SIGN_IN["sv"] in page.text


def test_switcher_sets_a_cookie_for_an_anonymous_visitor(testapp):
    login_page(testapp, "en")
    response = switch_language(testapp, "lt")
    assert response.location.endswith("/login")
    assert testapp.cookies[LOCALE_COOKIE] == "lt"
    # the visitor's choice beats the browser's
    page = login_page(testapp, "en")
    assert page_language(page) == "lt"
    assert SIGN_IN["lt"] in page.text


def test_switcher_ignores_an_unsupported_language(testapp):
    switch_language(testapp, "de")
    assert LOCALE_COOKIE not in testapp.cookies
    assert page_language(login_page(testapp)) == "sv"


def test_switcher_needs_the_csrf_token(testapp):
    testapp.post("/locale", {"locale": "fi"}, status=400)
    assert LOCALE_COOKIE not in testapp.cookies


def test_switcher_saves_the_language_of_a_signed_in_user(factory, signed_in, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    app = signed_in(user)
    switch_language(app, "lv", path=f"/c/{company.id}/")
    assert dbsession.scalars(select(User.locale).where(User.id == user.id)).one() == "lv"
    assert LOCALE_COOKIE not in app.cookies
    page = app.get(f"/c/{company.id}/", headers={"Accept-Language": "fi"})
    assert page_language(page) == "lv"
    # and it follows the user to another browser
    app.reset()
    again = signed_in(user)
    assert page_language(again.get("/account")) == "lv"


def test_company_default_beats_accept_language_on_company_pages(factory, signed_in):
    company = factory.company(default_locale="da")
    app = signed_in(factory.user(company=company))
    page = app.get(f"/c/{company.id}/", headers={"Accept-Language": "fi"})
    assert page_language(page) == "da"
    assert DASHBOARD["da"] in page.text
    # outside the company the browser's language applies again
    assert page_language(app.get("/account", headers={"Accept-Language": "fi"})) == "fi"


def test_users_own_language_beats_the_company_default(factory, signed_in):
    company = factory.company(default_locale="da")
    app = signed_in(factory.user(company=company, locale="nb"))
    page = app.get(f"/c/{company.id}/", headers={"Accept-Language": "fi"})
    assert page_language(page) == "nb"
    assert DASHBOARD["nb"] in page.text


def test_plugin_strings_come_from_the_plugin_catalog(factory, signed_in):
    company = factory.company()
    app = signed_in(factory.user(company=company, role="admin", locale="fi"))
    page = app.get(f"/c/{company.id}/settings/modules")
    card = page.html.find(id="module-notes").get_text()
    assert "Muistiinpanot" in card and "kuukaudessa" in card


def test_money_is_formatted_per_locale(request_in):
    swedish, english = request_in("sv"), request_in("en")
    assert swedish.locale_name == "sv" and english.locale_name == "en"
    in_swedish = swedish.format_money(Decimal("49"), "SEK")
    in_english = english.format_money(Decimal("49"), "SEK")
    assert in_swedish != in_english
    assert in_swedish == "49,00\xa0kr"
    assert in_english == "SEK\xa049.00"  # European English: the code apart from the amount


def test_dates_and_numbers_are_formatted_per_locale(request_in):
    day = dt.date(2026, 3, 5)
    assert request_in("sv").format_date(day) == "5 mars 2026"
    assert request_in("en").format_date(day) == "5 Mar 2026"  # day before month
    assert request_in("fi").format_date(day) == "5.3.2026"
    assert request_in("sv").format_number(Decimal("1234.5")) == "1\xa0234,5"
    assert request_in("en").format_number(Decimal("1234.5")) == "1,234.5"


def test_datetimes_are_shown_in_nordic_time(request_in):
    noon_utc = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.timezone.utc)
    assert request_in("sv").format_date(noon_utc, "short") == "2026-07-01 12:00"


def test_the_modules_page_shows_the_price_in_the_visitors_locale(factory, signed_in):
    company = factory.company()
    app = signed_in(factory.user(company=company, role="admin"))
    prices = {}
    for language in ("sv", "en"):
        page = app.get(f"/c/{company.id}/settings/modules", headers={"Accept-Language": language})
        prices[language] = page.html.find(id="module-notes").find(class_="price").get_text(" ", strip=True)
    assert prices["sv"] == "49,00\xa0kr/mån exkl. moms"
    assert prices["en"] == "SEK\xa049.00 per month excl. VAT"


@pytest.mark.parametrize("language, expected", [
    ("lt", "liko 10 dienų"),         # Lithuanian: the third plural form (10–20 days)
    ("lv", "atlikušas 10 dienas"),    # Latvian: the second plural form
    ("fi", "10 päivää jäljellä"),
])
def test_trial_days_left_uses_the_languages_plural_forms(factory, signed_in, language, expected):
    company = factory.company()
    app = signed_in(factory.user(company=company, role="admin", locale=language))
    token = csrf_token(app, f"/c/{company.id}/settings/modules")
    app.post(f"/c/{company.id}/settings/modules/notes/activate", {"csrf_token": token}, status=303)
    page = app.get(f"/c/{company.id}/settings/modules")
    state = page.html.find(id="module-notes").find(class_="state").get_text(" ", strip=True)
    assert expected in state
