"""A count in a plugin's message takes the plural form of the reader's language from the plugin's
own catalog: "1 sida", "2 sidor"; Lithuanian and Latvian have three forms, each catalog in the
order its Plural-Forms header gives. Messages of the plugins' Python code go through each
plugin's ``ngettext`` (the toolkit's PluralStringFactory, translated with the reader's localizer), those of their templates through
the catalog's ``ngettext`` as Jinja2 asks it."""
from __future__ import annotations

import shutil
from importlib.resources import files

import pytest
from pyramid.i18n import make_localizer

from mypages.i18n import PluralLocalizer, catalogs

from mypages_example_notes.common import ngettext as notes_ngettext
from mypages_ocr.i18n import ngettext as ocr_ngettext
from mypages_rates.translations import ngettext as rates_ngettext

PACKAGES = ("mypages_example_notes", "mypages_ocr", "mypages_rates", "mypages_bankid")


def localizer(language: str) -> PluralLocalizer:
    made = make_localizer(language, [str(files(package) / "locale") for package in PACKAGES])
    return PluralLocalizer(made.locale_name, made.translations)


def notes(n):
    return notes_ngettext("${num} note", "${num} notes", n)


def documents(n):
    return ocr_ngettext("${num} document uploaded", "${num} documents uploaded", n)


def pages(n):
    return ocr_ngettext("The document has ${num} page; at most ${max} can be read.",
                        "The document has ${num} pages; at most ${max} can be read.", n,
                        {"max": 1})


def alerts(n):
    return rates_ngettext("You can have at most ${num} alert.",
                          "You can have at most ${num} alerts.", n)


@pytest.mark.parametrize("make, language, n, shown", [
    (notes, "sv", 1, "1 anteckning"), (notes, "sv", 2, "2 anteckningar"),
    (notes, "en", 1, "1 note"), (notes, "en", 2, "2 notes"),
    (notes, "lt", 21, "21 užrašas"), (notes, "lt", 5, "5 užrašai"), (notes, "lt", 10, "10 užrašų"),
    (notes, "lv", 1, "1 piezīme"), (notes, "lv", 5, "5 piezīmes"), (notes, "lv", 0, "0 piezīmju"),
    (documents, "sv", 1, "1 dokument uppladdat"), (documents, "sv", 2, "2 dokument uppladdade"),
    (documents, "en", 1, "1 document uploaded"), (documents, "en", 2, "2 documents uploaded"),
    (documents, "lt", 1, "Įkeltas 1 dokumentas"), (documents, "lt", 5, "Įkelti 5 dokumentai"),
    (documents, "lt", 12, "Įkelta 12 dokumentų"),
    # this catalog's Latvian forms are CLDR's: zero (0, 10-20, 30, ...), one, other
    (documents, "lv", 21, "Augšupielādēts 21 dokuments"),
    (documents, "lv", 5, "Augšupielādēti 5 dokumenti"),
    (documents, "lv", 10, "Augšupielādēti 10 dokumentu"),
    (pages, "sv", 2, "Dokumentet har 2 sidor; högst 1 kan läsas."),
    (alerts, "en", 1, "You can have at most 1 alert."),
    (alerts, "en", 20, "You can have at most 20 alerts."),
    (alerts, "lt", 5, "Galite turėti ne daugiau kaip 5 įspėjimus."),
])
def test_a_count_in_python_takes_the_readers_plural_form(make, language, n, shown):
    assert localizer(language).translate(make(n)) == shown


@pytest.mark.parametrize("domain, singular, plural, language, n, shown", [
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "sv", 1, "1 sida"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "sv", 2, "2 sidor"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "en", 1, "1 page"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "en", 2, "2 pages"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "lt", 1, "1 puslapis"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "lt", 5, "5 puslapiai"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "lt", 11, "11 puslapių"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "lv", 1, "1 lapa"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "lv", 5, "5 lapas"),
    ("mypages_ocr", "%(num)s page", "%(num)s pages", "lv", 11, "11 lapu"),
    ("mypages_rates", "moves more than %(num)s basis point",
     "moves more than %(num)s basis points", "sv", 1, "rör sig mer än 1 baspunkt"),
    ("mypages_rates", "moves more than %(num)s basis point",
     "moves more than %(num)s basis points", "sv", 2, "rör sig mer än 2 baspunkter"),
    ("mypages_rates", "moves more than %(num)s basis point",
     "moves more than %(num)s basis points", "en", 1, "moves more than 1 basis point"),
    ("mypages_rates", "moves more than %(num)s basis point",
     "moves more than %(num)s basis points", "en", 2, "moves more than 2 basis points"),
    ("mypages_rates", "%(num)d new alert", "%(num)d new alerts", "lt", 5, "5 nauji įspėjimai"),
])
def test_a_count_in_a_template_takes_the_readers_plural_form(domain, singular, plural, language,
                                                            n, shown):
    found = localizer(language).translations.dungettext(domain, singular, plural, n)
    assert found % {"num": n} == shown


def _emptied(text: str) -> str:
    return text.replace('msgstr[2] "%(num)s puslapių"', 'msgstr[2] ""', 1)


def _dropped(text: str) -> str:
    return text.replace('msgstr[2] "%(num)s puslapių"\n', "", 1)


@pytest.mark.parametrize("spoil", [_emptied, _dropped])
def test_a_plural_form_missing_from_a_plugins_catalog_is_a_problem(tmp_path, spoil):
    """Lithuanian's third form ("10 puslapių") left empty, or its line gone: the check that
    ``mypages i18n check`` and the catalog tests run names the message."""
    shutil.copytree(files("mypages_ocr") / "locale", tmp_path / "locale")
    path = tmp_path / "locale" / "lt" / "LC_MESSAGES" / "mypages_ocr.po"
    text = path.read_text()
    assert spoil(text) != text
    path.write_text(spoil(text))
    domain = catalogs.Domain("mypages_ocr", tmp_path, "mypages_ocr", "mypages-ocr", "ocr")

    found = [what for what, _fix in catalogs.language_problems(domain, "lt")]
    assert found == ["mypages_ocr [lt]: untranslated: ('%(num)s page', '%(num)s pages')"]
