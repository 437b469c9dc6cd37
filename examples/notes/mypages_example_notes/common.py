"""What every part of the plugin shares: its translation domain (with a count: :func:`ngettext`)
and its module's key."""
from dataclasses import dataclass, field

from mypages.toolkit import TranslationStringFactory

DOMAIN = "mypages_example_notes"
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


MODULE_KEY = "notes"
