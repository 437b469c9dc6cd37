"""BankID: sign in and sign with Swedish BankID (RP API v6.0), on the public toolkit only."""
from mypages.toolkit import TranslationStringFactory

_ = TranslationStringFactory("mypages_bankid")

mypages_hookspec = "2.3"
