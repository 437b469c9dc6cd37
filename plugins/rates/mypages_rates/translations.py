from mypages.toolkit import TranslationStringFactory

_ = TranslationStringFactory("mypages_rates")
