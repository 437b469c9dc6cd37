"""Counts in the core's messages take the catalog's plural form of the reader's language:
"Vänta 1 sekund", never "Vänta 1 sekunder"; Lithuanian and Latvian have three forms."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories

from mypages.accounts.throttle import too_many
from mypages.i18n import (Formats, Plural, PluralStringFactory, localizer_for, portal_timezone,
                          translate)
from mypages.inbox.messages import record, render
from mypages.notifications.compose import compose


@pytest.mark.parametrize("language, seconds, shown", [
    ("sv", 1, "Vänta 1 sekund och"),
    ("sv", 2, "Vänta 2 sekunder och"),
    ("en", 1, "Wait 1 second and"),
    ("en", 60, "Wait 60 seconds and"),
    ("fi", 1, "Odota 1 sekunti ja"),
    ("fi", 5, "Odota 5 sekuntia ja"),
    ("lt", 21, "Palaukite 21 sekundę"),
    ("lt", 3, "Palaukite 3 sekundes"),
    ("lt", 10, "Palaukite 10 sekundžių"),
    ("lv", 1, "Pagaidiet 1 sekundi"),
    ("lv", 11, "Pagaidiet 11 sekundes"),
])
def test_a_wait_is_written_with_the_languages_plural_form(app, language, seconds, shown):
    directories = app.registry.queryUtility(ITranslationDirectories, default=[])
    reader = SimpleNamespace(localizer=make_localizer(language, directories),
                             registry=app.registry, locale_name=language)
    assert shown in translate(reader, too_many(seconds))


@pytest.mark.parametrize("language, seconds, shown", [
    ("sv", 1, "Vänta 1 sekund och"), ("sv", 3, "Vänta 3 sekunder och"),
    ("lt", 10, "Palaukite 10 sekundžių"),
])
def test_a_count_keeps_its_form_wherever_the_core_translates_it(app, language, seconds, shown):
    """Not only in a page: an e-mail's subject and body, a notification stored for readers
    of any language, an API problem, a health check's detail, all with the localizer."""
    message = too_many(seconds)
    localizer = localizer_for(app.registry, language)
    assert shown in localizer.translate(message)
    stored = record(message)
    assert shown in render(json.loads(json.dumps(stored)), localizer,
                           Formats(language, portal_timezone(app.registry)))
    subject, body = compose(app.registry, language, subject=message, body=message)
    assert shown in subject and shown in body


def test_a_plugin_makes_counts_of_its_own_domain():
    ngettext = PluralStringFactory("mypages_example_notes")

    made = ngettext("${num} note", "${num} notes", 3, {"extra": "x"})

    assert isinstance(made, Plural) and made.domain == "mypages_example_notes"
    assert (str(made), made.plural, made.n, made.mapping) == (
        "${num} note", "${num} notes", 3, {"num": 3, "extra": "x"})
