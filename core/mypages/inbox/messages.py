"""A notification's words, stored as translation strings and put into each reader's
language when shown: the message id, its domain and default, and its ``${name}`` values,
which keep their type (a date is written as the reader's language writes dates, a
translation string is translated in turn)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyramid.i18n import TranslationString

from mypages.i18n import Formats, Plural, localizer_for, portal_timezone, with_mapping
from mypages.notifications.compose import shown


def _value(value):
    if isinstance(value, TranslationString):
        return {"$message": record(value)}
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime in a notification must be aware (UTC)")
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)


def _unvalue(value):
    if isinstance(value, dict):
        if "$message" in value:
            return message(value["$message"])
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return dt.date.fromisoformat(value["$date"])
        if "$decimal" in value:
            return Decimal(value["$decimal"])
    return value


def record(text, values: dict | None = None) -> dict:
    """``text`` (a translation string, or plain text that is shown as it is) and the values
    of its placeholders, JSON-ready."""
    if not isinstance(text, TranslationString):
        text = TranslationString(str(text))
    mapping = {**(text.mapping or {}), **(values or {})}
    stored = {"msgid": str(text), "domain": text.domain, "default": text.default,
              "mapping": {str(name): _value(value) for name, value in mapping.items()}}
    if isinstance(text, Plural):  # a count: its plural form is chosen when shown
        stored.update(plural=text.plural, n=text.n)
    return stored


def message(stored: dict) -> TranslationString:
    """The translation string :func:`record` stored, its values as they were given."""
    mapping = {name: _unvalue(value) for name, value in (stored.get("mapping") or {}).items()}
    if "plural" in stored:
        return Plural(stored["msgid"], stored["plural"], stored["n"],
                      domain=stored.get("domain"), mapping=mapping)
    return TranslationString(stored["msgid"], domain=stored.get("domain"),
                             default=stored.get("default"), mapping=mapping)


def render(stored: dict, localizer, formats: Formats) -> str:
    """What :func:`record` stored, in the language of ``localizer`` and ``formats``."""
    text = message(stored)
    return localizer.translate(with_mapping(text, {
        name: shown(value, formats, localizer) for name, value in (text.mapping or {}).items()}))


def render_for(registry, locale: str, stored: dict) -> str:
    """:func:`render` outside a request (an e-mail)."""
    return render(stored, localizer_for(registry, locale),
                  Formats(locale, portal_timezone(registry)))
