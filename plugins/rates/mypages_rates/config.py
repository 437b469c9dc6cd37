"""The plugin's settings (``mypages_rates.*`` in the ini file) and its sources.

``mypages_rates.<source>_url``
    the base address of a source's service (``swea_url``, ``swestr_url``, ``ecb_url``,
    ``fixer_url``); the providers' own by default.
``mypages_rates.fixer_access_key``, ``mypages_rates.riksbank_subscription_key``
    the platform's keys; ``env:NAME`` reads one from the environment.
``mypages_rates.<source>_calls_per_minute``
    what every worker together may call a provider (the providers' limits by default).
``mypages_rates.backfill_years``
    how far back a series followed for the first time is fetched (default 10).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from pyramid.exceptions import ConfigurationError

from mypages.toolkit import outbound_client, plugin_hooks

from mypages_rates.sources import FetchContext, Source
from mypages_rates.sources.builtin import built_in

PREFIX = "mypages_rates."
KEYS = {"fixer": "fixer_access_key", "riksbank_swea": "riksbank_subscription_key",
        "riksbank_swestr": "riksbank_subscription_key", "morningstar": "morningstar_key"}
CONFIG = "rates.config"
SOURCES = "rates.sources"


def _secret(value: str) -> str:
    value = (value or "").strip()
    return os.environ.get(value[4:], "").strip() if value.startswith("env:") else value


@dataclass
class RatesConfig:
    settings: dict
    urls: dict = field(default_factory=dict)
    calls_per_minute: dict = field(default_factory=dict)
    backfill_years: int = 10

    def url(self, source: Source) -> str:
        return self.urls.get(source.key) or self.settings.get(
            PREFIX + source.url_setting, "") or source.default_url

    def platform_key(self, source_key: str) -> str | None:
        name = KEYS.get(source_key)
        return (_secret(self.settings.get(PREFIX + name, "")) or None) if name else None

    def pace(self, source: Source, key: str | None) -> float:
        """Seconds between two calls to the source's provider, for all workers."""
        per_minute = self.calls_per_minute.get(source.key) or float(
            self.settings.get(f"{PREFIX}{source.key}_calls_per_minute", 0) or 0
        ) or source.calls_per_minute_with(key)
        return 60.0 / per_minute

    def context(self, where, source: Source, key: str | None = None) -> FetchContext:
        return FetchContext(outbound_client(where), self.url(source),
                            key if key is not None else self.platform_key(source.key))


def rates_config(where) -> RatesConfig:
    return _registry(where)[CONFIG]


def sources(where) -> dict[str, Source]:
    """Every source offered through ``rates_sources``, by key."""
    return _registry(where)[SOURCES]


def _registry(where):
    return getattr(where, "registry", where)


def collect_sources(registry) -> None:
    """The built-in sources and those other plugins offer."""
    found: dict[str, Source] = {source.key: source for source in built_in()}
    for offered in plugin_hooks(registry).rates_sources():
        for source in offered or []:
            if source.key in found:
                raise ConfigurationError(f"two plugins offer the rate source {source.key!r}")
            found[source.key] = source
    registry[SOURCES] = dict(sorted(found.items()))


def check_production(settings: dict) -> None:
    """Production reads the providers themselves: never the offline stand-ins."""
    if settings.get("mypages.environment") != "production":
        return
    for name, value in settings.items():
        if name.startswith(PREFIX) and name.endswith("_url") and "/_dev/" in str(value):
            raise ConfigurationError(
                f"{name} points at the offline stand-in ({value}); production must use the "
                f"provider's address: remove the setting")
