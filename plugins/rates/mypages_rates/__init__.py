"""Rates: interest and exchange rates from the Riksbank, the ECB and Fixer."""
mypages_hookspec = "2.3"


def includeme(config):
    config.add_hookspecs("mypages_rates.hookspecs")
