"""The dashboard benchmark: four endpoints on identical gunicorn servers, measured in turns.

1. ``hello``            a bare Pyramid hello world
2. ``one_select``       pyramid_tm + zope.sqlalchemy around one SELECT by primary key
3. ``dashboard_small``  mypages' signed-in company dashboard, five modules, one company
4. ``dashboard_large``  the same dashboard with 100,000 more companies and 1,000,000
                        module activations in the database
5. ``api_modules``      ``GET /api/v1/modules`` with the company's API token, on the
                        ``dashboard_small`` server

Settings: BENCH_SECONDS (measured seconds per endpoint, default 30), BENCH_ROUNDS (default
15: short turns, many rounds, as this machine's speed wanders by a third from one turn to
the next), BENCH_WARMUP, BENCH_COMPANIES (default 100000), BENCH_ACTIVATIONS_PER_COMPANY
(default 10).
"""
from __future__ import annotations

from bench import client, inprocess, seed, wrk
from bench.measure import env_int, log, measure, print_report, ratios, summarize
from bench.servers import WORKERS
from bench.workspace import Workspace

#: (name, numerator, denominator, target): numerator / denominator should reach target
TARGETS = [
    ("dashboard_small / one_select", "dashboard_small", "one_select", 0.8),
    ("dashboard_large / dashboard_small", "dashboard_large", "dashboard_small", 0.9),
    ("api_modules / one_select", "api_modules", "one_select", 0.8),
    ("one_select / hello", "one_select", "hello", None),
]


def run(workspace: Workspace) -> dict:
    """Seed, serve, check, measure and report; returns the section for the results file."""
    seconds = env_int("BENCH_SECONDS", 30)
    rounds = env_int("BENCH_ROUNDS", 15)
    warmup = env_int("BENCH_WARMUP", 2)
    companies = env_int("BENCH_COMPANIES", 100_000)
    per_company = env_int("BENCH_ACTIVATIONS_PER_COMPANY", 10)
    seeded = workspace.seeded

    large_db, large_ini = workspace.copy_database("large")
    log(f"seeding the large database: {companies:,} companies, "
        f"{companies * per_company:,} module activations")
    large = seed.seed_large(large_db, seeded.module_keys, companies, per_company)
    log(f"  done in {large['seconds']} s, {large['database_mib']} MiB")
    seed.check_entitlements(large_db, [seeded.company_id, seeded.company_id + 1,
                                       seeded.company_id + companies // 2])

    servers = [
        workspace.server("hello", ["bench.apps.hello:make_app()"], "/"),
        workspace.server("one_select",
                         [f"bench.apps.one_select:make_app('sqlite:///{workspace.small_db}')"],
                         f"/company/{seeded.company_id}"),
        workspace.server("dashboard_small", ["--paste", str(workspace.small_ini)], "/login"),
        workspace.server("dashboard_large", ["--paste", str(large_ini)], "/login"),
    ]
    try:
        log(f"starting {len(servers)} gunicorn servers ({WORKERS} sync workers each)")
        for each in servers:
            each.start()
        by_name = {each.name: each for each in servers}

        dashboard_path = f"/c/{seeded.company_id}/"
        cookies = {name: client.sign_in(by_name[name].url, seeded)
                   for name in ("dashboard_small", "dashboard_large")}
        checks = [
            lambda: client.check_plain(by_name["hello"].url, "/", "Hello World!"),
            lambda: client.check_plain(by_name["one_select"].url, f"/company/{seeded.company_id}",
                                       seed.COMPANY_NAME),
            *(lambda name=name: client.check_dashboard(by_name[name].url, dashboard_path,
                                                       cookies[name], seeded)
              for name in cookies),
            lambda: client.check_api_modules(by_name["dashboard_small"].url, seeded.api_token,
                                             seeded),
        ]
        for check in checks:
            check()

        endpoints = {
            "hello": (by_name["hello"].url + "/", None),
            "one_select": (f"{by_name['one_select'].url}/company/{seeded.company_id}", None),
            **{name: (by_name[name].url + dashboard_path,
                      {"Cookie": f"{client.SESSION_COOKIE}={cookie}"})
               for name, cookie in cookies.items()},
            "api_modules": (by_name["dashboard_small"].url + "/api/v1/modules",
                            {"Authorization": f"Bearer {seeded.api_token}"}),
        }
        log(f"measuring: {seconds} s per endpoint in {rounds} rounds, "
            f"{warmup} s warm-up before the first round "
            f"(wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS})")
        turns = {name: (lambda s, url=url, headers=headers: wrk.run(url, s, headers))
                 for name, (url, headers) in endpoints.items()}
        runs = measure(turns, seconds, rounds, warmup)
        for check in checks:  # the session must have held for the whole run
            check()
        query_plans = inprocess.dashboard_query_plans(large_ini, large_db, seeded)
    finally:
        for each in servers:
            each.stop()

    summary = summarize(runs)
    ratio_rows = ratios(summary, TARGETS)
    print_report(summary, ratio_rows)
    scans = [plan["sql"][:100] for plan in query_plans
             if any(step.startswith("SCAN") for step in plan["plan"])]
    log(f"\nquery plans on the large database: {len(query_plans)} SELECTs per dashboard, "
        + (f"{len(scans)} with a full scan: {scans}" if scans else "every one through an index"))
    return {
        "settings": {"seconds": seconds, "rounds": rounds, "warmup_seconds": warmup,
                     "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency",
                     "gunicorn": f"--workers {WORKERS} --worker-class sync"},
        "large_database": {"companies": companies, "activations_per_company": per_company,
                           **large, "dashboard_query_plans": query_plans},
        "results": summary,
        "ratios": ratio_rows,
    }
