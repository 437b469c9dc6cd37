"""Morningstar: an adapter interface, and deliberately no implementation.

Morningstar has no public API; its data comes under a commercial licence
(Direct Web Services), with endpoints, identifiers and terms that differ per
contract. A licence holder writes the adapter for their contract in a plugin
of their own and publishes it through the ``rates_sources`` hook::

    from mypages.toolkit import hookimpl
    from mypages_rates.sources.morningstar import MorningstarAdapter

    class OurMorningstar(MorningstarAdapter):
        series_ids = {"F0GBR04SKZ": "Our fund"}  # the contract's identifiers

        def fetch(self, context, code, start, end):
            ...  # call the licensed endpoint through context.outbound, return Observations

    @hookimpl
    def rates_sources():
        return [OurMorningstar()]

Nothing here pretends to be Morningstar data: no fake, no demo series.
"""
from __future__ import annotations

import datetime as dt

from mypages.toolkit import TranslationStringFactory

from mypages_rates.sources import SeriesSpec, Source

_ = TranslationStringFactory("mypages_rates")


class MorningstarAdapter(Source):
    """The base of a licence holder's adapter. Set ``series_ids`` (the contract's
    identifiers and their titles) and implement :meth:`fetch`; the key is read from
    ``mypages_rates.morningstar_key`` and given as ``context.key``."""

    key = "morningstar"
    title = _("Morningstar")
    fetch_at = dt.time(20, 0)
    calls_per_minute = 10.0
    url_setting = "morningstar_url"
    default_url = ""
    needs_key = True
    series_ids: dict[str, str] = {}
    precision = 4

    def series(self):
        return [SeriesSpec(code, title, kind="index", precision=self.precision,
                           group=_("Morningstar"))
                for code, title in self.series_ids.items()]

    def fetch(self, context, code, start, end):
        raise NotImplementedError("a licence holder's adapter fetches from its contract's API")
