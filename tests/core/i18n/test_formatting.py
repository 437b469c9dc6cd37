"""Numbers, money and dates for one language, outside a request; the portal's time zone and
"today" in it."""
import datetime as dt
from decimal import Decimal

import pytest

from mypages import main
from mypages.settings import InvalidSetting
from mypages.services import Clock
from mypages.testing.services import SettableClock, register_service
from mypages.toolkit import format_date, format_money, format_number, portal_timezone, today

NBSP = "\xa0"


@pytest.mark.parametrize("value, locale, precision, shown", [
    (Decimal("1234.567"), "sv", 2, f"1{NBSP}234,57"),
    (Decimal("1234.567"), "en", 2, "1,234.57"),
    (Decimal("1234.5"), "en", 2, "1,234.50"),       # as many decimals as asked for
    (Decimal("2.5"), "en", 0, "3"),                  # half up, not to the even
    (Decimal("2.675"), "en", 2, "2.68"),
    (0.1 + 0.2, "en", 2, "0.30"),                    # a float by its shortest text
    (1234, "fi", 1, f"1{NBSP}234,0"),
    (Decimal("1234.5678"), "en", None, "1,234.568"),  # without a precision: up to three
])
def test_format_number_with_a_precision(value, locale, precision, shown):
    assert format_number(value, locale, precision) == shown


def test_a_negative_precision_is_refused():
    with pytest.raises(ValueError):
        format_number(1, "sv", -1)


def test_money_and_dates_for_a_language():
    assert format_money(Decimal("1234.5"), "SEK", "sv") == f"1{NBSP}234,50{NBSP}kr"
    assert format_money(Decimal("1234.5"), "EUR", "en") == f"€{NBSP}1,234.50"
    assert format_money(Decimal("990"), "SEK", "en") == f"SEK{NBSP}990.00"
    # a datetime is shown in the portal's time zone: 22:30 UTC is the next day in Stockholm
    moment = dt.datetime(2030, 6, 1, 22, 30, tzinfo=dt.timezone.utc)
    assert format_date(moment, "sv") == "2 juni 2030 00:30"
    # English as Europe writes it: the day before the month, a 24-hour clock
    assert format_date(dt.date(2030, 6, 1), "en", "long") == "1 June 2030"
    assert format_date(moment, "en") == "2 Jun 2030 00:30"


def test_today_is_the_date_in_stockholm_by_the_application_clock(app, replace_service):
    # 23:30 UTC on 31 January is 00:30 on 1 February in Stockholm (UTC+1 in winter)
    replace_service(Clock, SettableClock(dt.datetime(2030, 1, 31, 23, 30, tzinfo=dt.timezone.utc)))

    assert str(portal_timezone(app)) == "Europe/Stockholm"
    assert today(app) == dt.date(2030, 2, 1)
    assert today(app.registry) == dt.date(2030, 2, 1)


def test_the_portal_time_zone_is_a_setting(tmp_path):
    settings = {"sqlalchemy.url": f"sqlite:///{tmp_path}/unused.sqlite",
                "mypages.environment": "test", "mypages.time_zone": "Europe/Helsinki"}
    app = main({}, **settings)
    try:
        register_service(app, Clock, SettableClock(
            dt.datetime(2030, 1, 31, 22, 30, tzinfo=dt.timezone.utc)))
        assert str(portal_timezone(app)) == "Europe/Helsinki"
        assert today(app) == dt.date(2030, 2, 1)  # 00:30 in Helsinki, still 23:30 in Stockholm
    finally:
        app.registry["db.engine"].dispose()


def test_an_unknown_time_zone_stops_start_up(tmp_path):
    with pytest.raises(InvalidSetting, match="mypages.time_zone must be a time zone"):
        main({}, **{"sqlalchemy.url": f"sqlite:///{tmp_path}/unused.sqlite",
                    "mypages.environment": "test", "mypages.time_zone": "Mars/Olympus"})


def test_a_request_formats_with_a_precision(request_in):
    request = request_in("en")
    assert request.format_number(Decimal("1234.567"), 2) == "1,234.57"
    assert request.format_number(Decimal("1234.567")) == "1,234.567"
