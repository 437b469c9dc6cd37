"""What every part of the plugin shares: its translation domain (with a count: :func:`ngettext`)
and its module's key."""
from mypages.toolkit import PluralStringFactory, TranslationStringFactory

DOMAIN = "mypages_example_notes"
_ = TranslationStringFactory(DOMAIN)

#: ``_()`` with a count (``${num}``); Babel extracts both forms by the name
ngettext = PluralStringFactory(DOMAIN)


MODULE_KEY = "notes"
