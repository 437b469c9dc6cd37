"""Swedish personal identity numbers as BankID uses them: twelve digits, ``YYYYMMDDNNNN``.

A number is valid when its first eight digits are a date (a coordination number adds 60 to the
day) that is not in the future, and its last digit is the Luhn check digit of the ten digits
from the year's last two on. python-stdnum's ``se.personnummer`` has the Luhn check but no
coordination numbers, so its :mod:`stdnum.luhn` is used here with our own date rule.

A number is never logged, never written to the audit trail whole, and shown masked
(:func:`masked`) everywhere but its owner's own profile.
"""
from __future__ import annotations

import datetime as dt
import re

from stdnum import luhn
from stdnum.exceptions import ValidationError

from mypages_bankid.i18n import _

#: separators people type: "19900101-1239", "19900101 1239"
_SEPARATORS = re.compile(r"[\s\-+]")
INVALID = _("Enter the personal identity number with 12 digits, YYYYMMDDNNNN.")
BAD_DATE = _("The personal identity number does not begin with a date of birth.")
BAD_CHECK = _("The personal identity number's last digit is wrong: check the number.")


class InvalidPersonalNumber(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize(value: str) -> str:
    """The digits of ``value`` without the separators people type (for the blind index)."""
    return _SEPARATORS.sub("", value or "")


def birth_date(number: str) -> dt.date:
    """The date of birth in a 12-digit number (a coordination number's day less 60)."""
    day = int(number[6:8])
    if day > 60:
        day -= 60
    return dt.date(int(number[:4]), int(number[4:6]), day)


def validate(value: str, today: dt.date | None = None) -> str:
    """``value`` as twelve digits, or :class:`InvalidPersonalNumber` with a message."""
    number = normalize(value)
    if len(number) != 12 or not number.isdigit():
        raise InvalidPersonalNumber(INVALID)
    try:
        born = birth_date(number)
    except ValueError:
        raise InvalidPersonalNumber(BAD_DATE) from None
    if born > (today or dt.date.today()) or born.year < 1850:
        raise InvalidPersonalNumber(BAD_DATE)
    try:
        luhn.validate(number[2:])
    except ValidationError:
        raise InvalidPersonalNumber(BAD_CHECK) from None
    return number


def is_coordination_number(number: str) -> bool:
    return int(number[6:8]) > 60


def masked(number: str | None) -> str:
    """``YYYYMMDD-****``: enough to tell two people apart, not enough to be the number."""
    if not number:
        return ""
    return f"{number[:8]}-****"
