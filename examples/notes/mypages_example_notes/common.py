"""What every part of the plugin shares: its translation domain and its module's key."""
from mypages.toolkit import TranslationStringFactory

_ = TranslationStringFactory("mypages_example_notes")

MODULE_KEY = "notes"
