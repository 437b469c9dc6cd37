"""Counts in the core's messages take the catalog's plural form of the reader's language:
"Vänta 1 sekund", never "Vänta 1 sekunder"; Lithuanian and Latvian have three forms."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories

from mypages.accounts.throttle import too_many
from mypages.i18n import translate


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
