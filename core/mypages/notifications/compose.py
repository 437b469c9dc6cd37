"""An e-mail written for one reader: in their language, with dates, numbers and money as
that language writes them, from translation strings or from a template's two blocks."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyramid.i18n import TranslationString

from mypages.contract import Price
from mypages.i18n import (DEFAULT_LOCALE, Formats, localizer_for, portal_timezone, supported,
                          with_mapping)
from mypages.i18n.templates import mail_templates


def reader_locale(*choices: str | None) -> str:
    """The first supported language of ``choices`` (the reader's own, their company's...),
    else the platform's default."""
    for choice in choices:
        if code := supported(choice):
            return code
    return DEFAULT_LOCALE


def shown(value, formats: Formats, localizer) -> str:
    """A value put into a translation string, written for the reader: a date (or a datetime,
    in the portal's time zone), a :class:`~decimal.Decimal` (with as many decimals as it
    has), a
    :class:`~mypages.contract.Price` (money) or a translation string; anything else as
    ``str()`` gives it."""
    if isinstance(value, TranslationString):
        return localizer.translate(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return formats.date(value)
    if isinstance(value, Decimal):
        # with the decimals it was given (a rate of 11.2345 is not 11.235)
        exponent = value.as_tuple().exponent
        return formats.number(value, -exponent if isinstance(exponent, int) and exponent < 0
                              else None)
    if isinstance(value, Price):
        money = formats.money(value.amount, value.currency)
        if value.per is None:
            return money
        per = localizer.translate(value.per)
        # Swedish writes "990 kr/mån", other languages "SEK 990.00 per month"
        return f"{money}{per}" if per.startswith("/") else f"{money} {per}"
    return str(value)


def compose(registry, locale: str, *, subject=None, body=None, template: str | None = None,
            values: dict | None = None) -> tuple[str, str]:
    """(subject, body) in ``locale``: either ``subject`` and ``body``, translation strings
    whose ``${name}`` placeholders are filled from ``values`` (see :func:`shown`), or the
    ``subject`` and ``body`` blocks of the Jinja2 ``template``, which gets ``values`` as they
    are plus ``format_date``, ``format_day``, ``format_number``, ``format_money`` and
    ``translate`` for the reader's language."""
    values = values or {}
    formats = Formats(locale, portal_timezone(registry))
    localizer = localizer_for(registry, locale)
    if template is not None:
        if subject is not None or body is not None:
            raise TypeError("give either a template or a subject and a body, not both")
        return mail_templates(registry).render(registry, template, locale, {
            **values, **formats.functions(), "translate": localizer.translate})
    if subject is None or body is None:
        raise TypeError("an e-mail needs a subject and a body, or a template")

    def translated(message) -> str:
        if not isinstance(message, TranslationString):
            message = TranslationString(message)
        mapping = {name: shown(value, formats, localizer)
                   for name, value in {**(message.mapping or {}), **values}.items()}
        return localizer.translate(with_mapping(message, mapping))

    return " ".join(translated(subject).split()), translated(body)
