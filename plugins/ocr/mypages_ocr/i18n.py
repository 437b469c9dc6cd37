"""The plugin's translation domain."""
from mypages.toolkit import TranslationStringFactory

_ = TranslationStringFactory("mypages_ocr")
