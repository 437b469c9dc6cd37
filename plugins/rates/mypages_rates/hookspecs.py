"""The hooks the Rates plugin publishes for other plugins to implement."""
from mypages.toolkit import hookspec


@hookspec
def rates_sources():
    """Return rate sources to offer, a list of :class:`mypages_rates.sources.Source`.

    Each source's ``key`` must be unique among all plugins. The Rates plugin stores
    what a source fetches, paces its calls, retries its failures and shows its health;
    the source only speaks its provider's format. A source of another plugin is
    fetched by the job ``rates.fetch.others`` once a day after its ``fetch_at``; the
    built-in sources have a job each.
    """
