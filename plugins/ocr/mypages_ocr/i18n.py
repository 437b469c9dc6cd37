"""The plugin's translation domain."""
from mypages.toolkit import PluralStringFactory, TranslationStringFactory

DOMAIN = "mypages_ocr"
_ = TranslationStringFactory(DOMAIN)

#: ``_()`` with a count (``${num}``); Babel extracts both forms by the name
ngettext = PluralStringFactory(DOMAIN)
