"""Values put into a notification's words, written for the reader."""
from __future__ import annotations

from decimal import Decimal

import pytest

from mypages.i18n import Formats
from mypages.notifications.compose import shown


@pytest.mark.parametrize("value, locale, text", [
    (Decimal("11.2345"), "sv", "11,2345"),  # an exchange rate keeps its four decimals
    (Decimal("2.50"), "en", "2.50"),
    (Decimal("-0.25"), "en", "-0.25"),
    (Decimal("1234"), "sv", "1\u00a0234"),
    (Decimal("1E+2"), "en", "100"),
])
def test_a_decimal_keeps_the_decimals_it_was_given(value, locale, text):
    assert shown(value, Formats(locale), localizer=None) == text
