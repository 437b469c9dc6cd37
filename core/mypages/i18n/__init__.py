"""Languages, locale negotiation, Babel formatting and the portal's time zone.

The locale is chosen by the user's own setting, then the company's
default, then the browser's Accept-Language, then Swedish.
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from jinja2 import pass_context
from pyramid.i18n import Localizer, TranslationString, TranslationStringFactory, make_localizer
from pyramid.interfaces import ILocaleNegotiator, ILocalizer, ITranslationDirectories
from pyramid.threadlocal import get_current_request

from mypages.services import clock, settings_of

_ = TranslationStringFactory("mypages")


class Plural(TranslationString):
    """A translation string with a count: the catalog's plural form for ``n`` of the language
    it is shown in ("1 sekund", "2 sekunder"; Lithuanian has three), chosen when translated
    by ``request.translate``."""

    def __new__(cls, singular: str, plural: str, n: int, domain: str = "mypages",
                mapping: dict | None = None):
        self = super().__new__(cls, singular, domain=domain, mapping=mapping)
        self.plural = plural
        self.n = n
        return self


class PluralStringFactory:
    """``ngettext = PluralStringFactory("mypages_notes")``: ``ngettext(singular, plural, n,
    mapping=None)`` makes a :class:`Plural` of that domain, whose ``${num}`` is ``n``. Name
    the function ``ngettext``: Babel extracts both forms by that name."""

    def __init__(self, domain: str):
        self.domain = domain

    def __call__(self, singular: str, plural: str, n: int, mapping: dict | None = None) -> Plural:
        return Plural(singular, plural, n, domain=self.domain,
                      mapping={"num": n, **(mapping or {})})


#: ``_()`` with a count, for the core's messages
ngettext = PluralStringFactory("mypages")


def with_mapping(message: TranslationString, mapping: dict) -> TranslationString:
    """``message`` with other ``${name}`` values (written for a reader, say); a count stays
    a count."""
    if isinstance(message, Plural):
        return Plural(str(message), message.plural, message.n, domain=message.domain,
                      mapping=mapping)
    return TranslationString(message, domain=message.domain, default=message.default,
                             mapping=mapping, context=message.context)


class PluralLocalizer(Localizer):
    """A localizer whose ``translate`` also takes a :class:`Plural`, in the form its count
    asks for: a count reaches the reader the same way in a page, an e-mail, a notification,
    an API problem or a health check."""

    def translate(self, tstring, domain=None, mapping=None):
        if isinstance(tstring, Plural):
            return self.pluralize(str(tstring), tstring.plural, tstring.n,
                                  domain=domain or tstring.domain,
                                  mapping={**(tstring.mapping or {}), **(mapping or {})})
        return super().translate(tstring, domain=domain, mapping=mapping)

#: Swedish first; Estonian is ``et`` (sometimes written "ee").
LANGUAGES = ("sv", "en", "da", "nb", "fi", "lt", "lv", "et")
DEFAULT_LOCALE = "sv"
LOCALE_COOKIE = "mypages_locale"

#: the default of ``mypages.time_zone``; a request's is ``request.timezone``
TIMEZONE = ZoneInfo("Europe/Stockholm")

LANGUAGE_NAMES = {code: Locale.parse(code).get_display_name(code).capitalize() for code in LANGUAGES}


def supported(code: str | None) -> str | None:
    if not code:
        return None
    code = code.replace("-", "_").split("_")[0].lower()
    if code == "ee":  # a common misspelling of Estonian
        code = "et"
    if code in ("no", "nn"):  # Norwegian visitors get Bokmål
        code = "nb"
    return code if code in LANGUAGES else None


def negotiate_locale(request) -> str:
    user = getattr(request, "user", None)
    choices = [
        user.locale if user is not None else request.cookies.get(LOCALE_COOKIE),
        getattr(getattr(request, "company", None), "default_locale", None),
    ]
    for choice in choices:
        if code := supported(choice):
            return code
    return browser_locale(request)


def browser_locale(request) -> str:
    """The first of our languages the browser asks for (``Accept-Language``), or the default."""
    parsed = getattr(request.accept_language, "parsed", None) or ()
    for tag, quality in sorted(parsed, key=lambda pair: -pair[1]):
        if quality > 0 and (code := supported(tag)):
            return code
    return DEFAULT_LOCALE


# -- Babel formatting, for one language -----------------------------------------

#: Babel's locale for formatting where a language's default is not European: English is
#: written as in Britain (3 December 2026, 09:11, 1,234.50), not as in the United States
FORMAT_LOCALES = {"en": "en_GB"}
#: money where Babel's pattern glues the currency code to the amount ("SEK990.00")
MONEY_PATTERNS = {"en": "\xa4\xa0#,##0.00"}


def formatting_locale(locale: str) -> str:
    """The Babel locale that writes numbers, dates and money for the language ``locale``."""
    return FORMAT_LOCALES.get(locale, locale)


@lru_cache(maxsize=64)
def _decimal_format(locale: str, precision: int | None) -> tuple[Locale, numbers.NumberPattern]:
    """Babel's locale and decimal pattern, with ``precision`` decimals exactly if given:
    parsed once, as a page may write a hundred numbers."""
    babel_locale = Locale.parse(locale)
    pattern = copy.copy(numbers.parse_pattern(babel_locale.decimal_formats[None]))
    if precision is not None:
        pattern.frac_prec = (precision, precision)
    return babel_locale, pattern


def format_number(value, locale: str, precision: int | None = None) -> str:
    """``value`` (a :class:`~decimal.Decimal`, an int or a float) written for ``locale``: its
    grouping and decimal signs, Swedish ``1 234,57`` (with no-break spaces), English
    ``1,234.57``. With ``precision``, exactly that many decimals, rounded half up; without,
    as many as the value has, up to three. A float is read by its shortest text
    (``0.1`` stays 0.1), so no binary error shows."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if precision is not None:
        if precision < 0:
            raise ValueError("precision is a number of decimals, 0 or more")
        number = number.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
    babel_locale, pattern = _decimal_format(formatting_locale(locale), precision)
    return pattern.apply(number, babel_locale)


def format_money(amount, currency: str, locale: str) -> str:
    """An amount of ``currency`` (ISO 4217) written for ``locale``: ``1 234,50 kr``,
    ``SEK 1,234.50`` (a no-break space between code and amount)."""
    number = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return numbers.format_currency(number, currency, format=MONEY_PATTERNS.get(locale),
                                   locale=formatting_locale(locale))


def format_date(value: dt.date | dt.datetime, locale: str, format: str = "medium",
                timezone: dt.tzinfo = TIMEZONE) -> str:
    """A date, or a date and time to the minute in ``timezone``, written for ``locale``."""
    locale = formatting_locale(locale)
    if isinstance(value, dt.datetime):
        local = value.astimezone(timezone)
        return (dates.format_date(local.date(), format=format, locale=locale) + " "
                + dates.format_time(local, format="short", locale=locale))
    return dates.format_date(value, format=format, locale=locale)


def format_day(value: dt.datetime, locale: str, format: str = "long",
               timezone: dt.tzinfo = TIMEZONE) -> str:
    """Only the day of ``value`` in ``timezone``, written for ``locale``."""
    return dates.format_date(value.astimezone(timezone).date(), format=format,
                             locale=formatting_locale(locale))


@dataclass(frozen=True)
class Formats:
    """The Babel formatting of one language in the portal's time zone: what a request has as
    ``request.format_*``, and an e-mail's template as ``format_*`` for its reader."""

    locale: str
    timezone: dt.tzinfo = TIMEZONE

    def date(self, value, format: str = "medium") -> str:
        return format_date(value, self.locale, format, self.timezone)

    def day(self, value, format: str = "long") -> str:
        return format_day(value, self.locale, format, self.timezone)

    def number(self, value, precision: int | None = None) -> str:
        return format_number(value, self.locale, precision)

    def money(self, amount, currency: str) -> str:
        return format_money(amount, currency, self.locale)

    def functions(self) -> dict:
        """The functions by the names templates know them by."""
        return {"format_date": self.date, "format_day": self.day,
                "format_number": self.number, "format_money": self.money}


def formats_of(request) -> Formats:
    return Formats(request.locale_name, request.timezone)


def portal_timezone(where) -> ZoneInfo:
    """The portal's time zone (``mypages.time_zone``, Europe/Stockholm unless set); ``where``
    is the registry, a request, or a job's or an event's context."""
    return settings_of(where).time_zone


def today(where) -> dt.date:
    """The date it is now in the portal's time zone, by the application's clock: a reminder
    job's "due today" (the UTC date is yesterday's until 01:00 or 02:00 in Stockholm)."""
    return clock(where).now().astimezone(portal_timezone(where)).date()


def localizer_for(registry, locale: str | None):
    """The localizer of a language (Swedish for an unknown one), outside a request: for
    e-mails, jobs and compiled templates. Kept in the registry, as Pyramid keeps a
    request's."""
    locale = supported(locale) or DEFAULT_LOCALE
    localizer = registry.queryUtility(ILocalizer, name=locale)
    if localizer is None:
        directories = registry.queryUtility(ITranslationDirectories, default=[])
        made = make_localizer(locale, directories)
        localizer = PluralLocalizer(made.locale_name, made.translations)
        registry.registerUtility(localizer, ILocalizer, name=locale)
    return localizer


def _localizer(request):
    """``request.localizer``: the language's :class:`PluralLocalizer`."""
    return localizer_for(request.registry, request.locale_name)


def translate(request, value) -> str:
    """A translation string in the request's language; the catalog is asked once per
    process for each message, only the ``${name}`` values are filled in every time."""
    if value is None or value == "":  # a card without a body, say: nothing to look up
        return ""
    if isinstance(value, Plural):  # its form depends on the count: not kept
        return request.localizer.pluralize(str(value), value.plural, value.n,
                                           domain=value.domain, mapping=value.mapping)
    if not isinstance(value, TranslationString):
        return request.localizer.translate(value)
    cache = request.registry["i18n.translation_cache"]
    key = (request.locale_name, value.domain, str(value), value.default, value.context)
    found = cache.get(key)
    if found is None:
        if len(cache) > 100_000:  # messages come from code, so this is a safety net only
            cache.clear()
        found = cache[key] = request.localizer.translate(TranslationString(
            str(value), domain=value.domain, default=value.default, context=value.context))
    return value.interpolate(found) if value.mapping else found


def message_record(message: TranslationString) -> dict:
    """A translation string as JSON-ready data, to be stored now and shown later in the
    language of whoever reads it (see :func:`stored_message`)."""
    return {"domain": message.domain, "msgid": str(message), "default": message.default,
            "mapping": {key: str(value) for key, value in (message.mapping or {}).items()}}


def stored_message(record: dict) -> TranslationString:
    """The translation string that :func:`message_record` stored."""
    return TranslationString(record["msgid"], domain=record.get("domain"),
                             default=record.get("default"), mapping=record.get("mapping") or None)


# -- Jinja2: gettext that knows the plugin domain of a template -----------------

def template_domain(name: str | None) -> str:
    """A template's gettext domain: the package of its asset spec (a plugin's own catalog)."""
    return name.split(":", 1)[0] if name and ":" in name else "mypages"


def lookup(localizer, domain: str, message: str) -> str:
    translations = localizer.translations
    if domain != "mypages":
        found = translations.dugettext(domain, message)
        if found != message:
            return found
    return translations.dugettext("mypages", message)


def _language_of(context):
    """(registry, locale name, localizer) a template is rendered in: its environment's when
    compiled for one language (every page, and an e-mail in its reader's language, which
    may differ from the request's), else the request's."""
    environment = context.environment
    localizer = getattr(environment, "mypages_localizer", None)
    if localizer is not None:
        return environment.mypages_registry, environment.mypages_locale, localizer
    request = context.get("request") or get_current_request()
    return request.registry, request.locale_name, request.localizer


def _cached(context, domain: str, message: str, plural: str | None = None, n: int = 1) -> str:
    """Translations are fixed once the catalogs are loaded: look each up once per process."""
    registry, locale_name, localizer = _language_of(context)
    cache = registry["i18n.template_cache"]
    key = (locale_name, domain, message, plural, n if plural else 1)
    found = cache.get(key)
    if found is None:
        translations = localizer.translations
        if plural is None:
            found = lookup(localizer, domain, message)
        else:
            found = translations.dungettext(domain, message, plural, n)
            if found in (message, plural) and domain != "mypages":
                found = translations.dungettext("mypages", message, plural, n)
        cache[key] = found
    return found


@pass_context
def jinja_gettext(context, message: str, **variables) -> str:
    """``_("Text %(name)s", name=value)`` in templates; the result is escaped on output."""
    translated = _cached(context, template_domain(context.name), message)
    return translated % variables if variables else translated


@pass_context
def jinja_ngettext(context, singular: str, plural: str, n: int, **variables) -> str:
    translated = _cached(context, template_domain(context.name), singular, plural, n)
    variables.setdefault("num", n)
    return translated % variables


def install_jinja_i18n(config) -> None:
    config.registry["i18n.template_cache"] = {}

    def install(environment):
        environment.globals.update(_=jinja_gettext, gettext=jinja_gettext,
                                   ngettext=jinja_ngettext)
    config.action(("mypages", "jinja-i18n"),
                  lambda: install(config.get_jinja2_environment()), order=10)


def includeme(config):
    config.registry.registerUtility(negotiate_locale, ILocaleNegotiator)
    config.add_translation_dirs("mypages:locale/")
    config.add_request_method(formats_of, "formats", reify=True)
    config.add_request_method(lambda request, value, format="medium":
                              request.formats.date(value, format), "format_date")
    config.add_request_method(lambda request, value, format="long":
                              request.formats.day(value, format), "format_day")
    config.add_request_method(lambda request, value, precision=None:
                              request.formats.number(value, precision), "format_number")
    config.add_request_method(lambda request, amount, currency:
                              request.formats.money(amount, currency), "format_money")
    config.registry["i18n.translation_cache"] = {}
    config.add_request_method(_localizer, "localizer", reify=True)
    config.add_request_method(translate, "translate")
    config.add_request_method(portal_timezone, "timezone", reify=True)
