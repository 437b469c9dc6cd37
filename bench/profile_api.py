"""Where an API request spends its time: the app in-process, under cProfile.

``python -m bench.profile_api [REQUESTS [STATS_FILE]]`` seeds the small database of the
benchmark, then serves REQUESTS (default 2000) ``GET /api/v1/modules`` with the company's
API token under cProfile and prints the costliest functions, the SQL statements per
request, and the same count of requests on the one-SELECT app and the signed-in dashboard
for scale. No server, no network: this is the application's own cost, with the rate
limits counted where the ini says (the database by default). STATS_FILE keeps the raw
cProfile data for pstats or snakeviz.
"""
from __future__ import annotations

import cProfile
import shutil
import sys
import tempfile
from pathlib import Path

from pyramid.paster import get_app
from webtest import TestApp

from bench import inprocess, plugin, seed
from bench.apps.one_select import make_app as make_one_select
from bench.profile_dashboard import best_rates, report
from mypages.cli import migration_sources
from mypages.db.migrate import upgrade_all


def main(requests: int = 2000, stats_file: str | None = None) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="mypages-profile-api-"))
    try:
        module_keys = tuple(plugin.activate(plugin.install(workdir)).MODULE_KEYS)
        database = workdir / "small.sqlite"
        ini = seed.write_ini(workdir, "small", database)
        registry = get_app(str(ini)).registry
        upgrade_all(registry["db.engine"], migration_sources(registry))
        registry["db.engine"].dispose()
        seeded = seed.seed_small(database, module_keys)
        dashboard, app = inprocess.signed_in_testapp(ini, seeded)
        api = TestApp(app, lint=False, extra_environ={
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost",
            "HTTP_AUTHORIZATION": f"Bearer {seeded.api_token}"})
        path = "/api/v1/modules"
        answer = api.get(path, status=200).json
        assert len(answer["items"]) >= len(module_keys), "not the modules"

        one_select = TestApp(make_one_select(f"sqlite:///{database}"), lint=False)
        apps = {"one_select": (one_select, f"/company/{seeded.company_id}"),
                "dashboard": (dashboard, f"/c/{seeded.company_id}/"),
                "api_modules": (api, path)}
        best_rates(apps, 400, rounds=1)  # warm-up
        rates = best_rates(apps, requests)

        statements = inprocess.record_statements(app.registry["db.engine"])
        storage_engine = getattr(app.registry["api.published"].rate_limits.storage, "engine",
                                 None)
        if storage_engine is not None and storage_engine is not app.registry["db.engine"]:
            statements_elsewhere = inprocess.record_statements(storage_engine)
        else:
            statements_elsewhere = []
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            api.get(path)
        profiler.disable()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if stats_file:
        profiler.dump_stats(stats_file)

    report(rates, "api_modules", statements + statements_elsewhere, profiler, requests, top=40)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
                  sys.argv[2] if len(sys.argv) > 2 else None))
