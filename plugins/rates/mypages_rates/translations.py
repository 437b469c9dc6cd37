from dataclasses import dataclass, field

from mypages.toolkit import TranslationStringFactory

DOMAIN = "mypages_rates"
_ = TranslationStringFactory(DOMAIN)


@dataclass(frozen=True)
class Plural:
    """A message with a count, translated where it is shown: the catalog's plural form for
    ``n`` in the reader's language ("1 sida", "2 sidor"; Lithuanian and Latvian have three).
    ``${num}`` is ``n``."""

    singular: str
    plural: str
    n: int
    mapping: dict = field(default_factory=dict)

    def translate(self, localizer) -> str:
        """The message in ``localizer``'s language (``request.localizer``,
        ``call.localizer``)."""
        return localizer.pluralize(self.singular, self.plural, self.n, domain=DOMAIN,
                                   mapping={"num": self.n, **self.mapping})


def ngettext(singular: str, plural: str, n: int, mapping: dict | None = None) -> Plural:
    """``_()`` with a count (Babel extracts it by its name, with both forms)."""
    return Plural(singular, plural, n, dict(mapping or {}))


#: the currencies the ECB and Fixer sources offer against the euro, with their names
EURO_CURRENCIES = [
    ("SEK", _("Swedish krona (SEK)")),
    ("USD", _("US dollar (USD)")),
    ("GBP", _("Pound sterling (GBP)")),
    ("NOK", _("Norwegian krone (NOK)")),
    ("DKK", _("Danish krone (DKK)")),
    ("CHF", _("Swiss franc (CHF)")),
]
