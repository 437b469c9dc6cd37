"""Fixtures come from mypages.testing.plugin (the pytest11 entry point)."""
