from mypages.toolkit import TranslationStringFactory

_ = TranslationStringFactory("mypages_rates")

#: the currencies the ECB and Fixer sources offer against the euro, with their names
EURO_CURRENCIES = [
    ("SEK", _("Swedish krona (SEK)")),
    ("USD", _("US dollar (USD)")),
    ("GBP", _("Pound sterling (GBP)")),
    ("NOK", _("Norwegian krone (NOK)")),
    ("DKK", _("Danish krone (DKK)")),
    ("CHF", _("Swiss franc (CHF)")),
]
