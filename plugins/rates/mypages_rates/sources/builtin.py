"""The sources this plugin offers itself."""
from mypages_rates.sources.ecb import Ecb
from mypages_rates.sources.fixer import Fixer
from mypages_rates.sources.riksbank import RiksbankSwea, RiksbankSwestr


def built_in() -> list:
    return [RiksbankSwea(), RiksbankSwestr(), Ecb(), Fixer()]


BUILT_IN_KEYS = frozenset(source.key for source in built_in())
