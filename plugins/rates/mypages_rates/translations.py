from mypages.toolkit import PluralStringFactory, TranslationStringFactory

DOMAIN = "mypages_rates"
_ = TranslationStringFactory(DOMAIN)

#: ``_()`` with a count (``${num}``); Babel extracts both forms by the name
ngettext = PluralStringFactory(DOMAIN)


#: the currencies the ECB and Fixer sources offer against the euro, with their names
EURO_CURRENCIES = [
    ("SEK", _("Swedish krona (SEK)")),
    ("USD", _("US dollar (USD)")),
    ("GBP", _("Pound sterling (GBP)")),
    ("NOK", _("Norwegian krone (NOK)")),
    ("DKK", _("Danish krone (DKK)")),
    ("CHF", _("Swiss franc (CHF)")),
]
