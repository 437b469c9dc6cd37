"""Test support for the core and for plugin authors (the ``pytest11`` plugin in :mod:`.plugin`)."""
