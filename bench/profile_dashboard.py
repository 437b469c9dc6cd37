"""Where a dashboard request spends its time: the app in-process, under cProfile.

``python -m bench.profile_dashboard [REQUESTS [STATS_FILE]]`` seeds the small database of
the benchmark, signs in through the login form (WebTest), then serves
REQUESTS (default 2000) dashboards under cProfile and prints the costliest
functions, the SQL statements per request, and the same count of requests
on the one-SELECT app for scale. No server, no network: this is the
application's own cost. STATS_FILE keeps the raw cProfile data for pstats
or snakeviz.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pyramid.paster import get_app

from bench import inprocess, plugin, seed


def timed(testapp, path: str, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        testapp.get(path)
    return requests / (time.perf_counter() - started)


def best_rates(apps: dict, requests: int, rounds: int = 5) -> dict[str, float]:
    """Each app in turn, ``rounds`` times; the best round, as neighbours only ever slow us down."""
    rates = {name: [] for name in apps}
    for _ in range(rounds):
        for name, (testapp, path) in apps.items():
            rates[name].append(timed(testapp, path, max(1, requests // rounds)))
    return {name: max(found) for name, found in rates.items()}


def report(rates: dict, measured: str, statements: list, profiler, requests: int,
           top: int) -> None:
    """Print the rates side by side, ``measured`` against ``one_select``, the SQL statements
    per request and where the profiled requests spent their time."""
    print(f"in-process, {requests} requests each in 5 turns, best turn (WebTest, no server):")
    for name, rate in rates.items():
        print(f"  {name:<11} {rate:8.0f} req/s  {1000 / rate:6.2f} ms/request")
    print(f"  {measured} / one_select {rates[measured] / rates['one_select']:8.3f}")
    print(f"\nSQL statements per {measured} request:")
    for statement, count in Counter(" ".join(sql.split())[:110] for sql, _ in statements).most_common():
        print(f"  {count / requests:5.2f}  {statement}")
    report_profile(profiler, top)


def report_profile(profiler, top: int) -> None:
    """The ``top`` costliest functions, by their own time and with what they call."""
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort)
        stats.print_stats(top)
        print(f"\n--- top functions by {sort} ---")
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip() and not line.startswith(("   Ordered", "         "))))


def main(requests: int = 2000, stats_file: str | None = None) -> int:
    from webtest import TestApp

    from mypages.cli import migration_sources
    from mypages.db.migrate import upgrade_all

    from bench.apps.one_select import make_app as make_one_select

    workdir = Path(tempfile.mkdtemp(prefix="mypages-profile-"))
    try:
        module_keys = tuple(plugin.activate(plugin.install(workdir)).MODULE_KEYS)
        database = workdir / "small.sqlite"
        ini = seed.write_ini(workdir, "small", database)
        registry = get_app(str(ini)).registry
        upgrade_all(registry["db.engine"], migration_sources(registry))
        registry["db.engine"].dispose()
        seeded = seed.seed_small(database, module_keys)
        testapp, app = inprocess.signed_in_testapp(ini, seeded)
        path = f"/c/{seeded.company_id}/"
        page = testapp.get(path, status=200)
        # the modules' cards and the core's own (mypages.inbox.getting_started)
        assert page.text.count('<section class="card">') >= len(module_keys), "not the dashboard"

        one_select = TestApp(make_one_select(f"sqlite:///{database}"), lint=False)
        one_select_path = f"/company/{seeded.company_id}"
        apps = {"one_select": (one_select, one_select_path), "dashboard": (testapp, path)}
        best_rates(apps, 400, rounds=1)  # warm-up
        rates = best_rates(apps, requests)

        statements = inprocess.record_statements(app.registry["db.engine"])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            testapp.get(path)
        profiler.disable()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if stats_file:
        profiler.dump_stats(stats_file)

    report(rates, "dashboard", statements, profiler, requests, top=35)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
                  sys.argv[2] if len(sys.argv) > 2 else None))
