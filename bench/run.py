"""The benchmark: four endpoints on identical gunicorn servers, measured in turns by wrk.

1. ``hello``            a bare Pyramid hello world
2. ``one_select``       pyramid_tm + zope.sqlalchemy around one SELECT by primary key
3. ``dashboard_small``  mypages' signed-in company dashboard, five modules, one company
4. ``dashboard_large``  the same dashboard with 100,000 more companies and 1,000,000
                        module activations in the database

Settings come from the environment: BENCH_SECONDS (measured seconds per
endpoint, default 10), BENCH_ROUNDS (turns the measured time is split into,
default 5), BENCH_WARMUP (seconds before every measured turn, default 2),
BENCH_COMPANIES (default 100000), BENCH_ACTIVATIONS_PER_COMPANY (default 10),
BENCH_KEEP=1 keeps the temporary directory with databases and server logs.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import inprocess, plugin, seed, wrk
from bench.servers import WORKERS, Server

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

SESSION_COOKIE = "mypages_session"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
CARD_PATTERN = re.compile(r'<section class="card">')

#: (name, numerator, denominator, target): numerator / denominator should reach target
TARGETS = [
    ("dashboard_small / one_select", "dashboard_small", "one_select", 0.8),
    ("dashboard_large / dashboard_small", "dashboard_large", "dashboard_small", 0.9),
    ("one_select / hello", "one_select", "hello", None),
]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def log(message: str) -> None:
    print(message, flush=True)


# -- signing in and checking what is measured ----------------------------------

def sign_in(base_url: str, seeded: seed.Seeded) -> str:
    """A real sign-in through the login form; returns the session cookie's value."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/login")
        form.raise_for_status()
        token = CSRF_PATTERN.search(form.text).group(1)
        done = client.post("/login", data={"email": seeded.email, "password": seeded.password,
                                           "csrf_token": token, "next": ""})
        if done.status_code != 303:
            raise RuntimeError(f"sign-in at {base_url} answered {done.status_code}, not 303")
        cookie = client.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise RuntimeError(f"sign-in at {base_url} set no {SESSION_COOKIE} cookie")
    return cookie


def check_dashboard(base_url: str, path: str, cookie: str, seeded: seed.Seeded) -> None:
    """The measured page must be the dashboard with its five cards, not a redirect to /login."""
    page = httpx.get(base_url + path, cookies={SESSION_COOKIE: cookie}, timeout=30)
    if page.status_code != 200:
        raise RuntimeError(f"{path} answered {page.status_code} "
                           f"({page.headers.get('location', '')}), not the dashboard")
    cards = len(CARD_PATTERN.findall(page.text))
    missing = [key for key in seeded.module_keys if f"/{key}\"" not in page.text]
    if cards != len(seeded.module_keys) or missing or seed.COMPANY_NAME not in page.text:
        raise RuntimeError(f"{path} shows {cards} cards (missing {missing}), "
                           f"not the dashboard of {seed.COMPANY_NAME} with five cards")


def check_plain(base_url: str, path: str, expected: str) -> None:
    page = httpx.get(base_url + path, timeout=30)
    if page.status_code != 200 or expected not in page.text:
        raise RuntimeError(f"{path} answered {page.status_code}: {page.text[:200]!r}")


# -- measuring ------------------------------------------------------------------

def measure(endpoints: dict, seconds: int, rounds: int, warmup: int) -> dict[str, list]:
    """Every endpoint in turn, ``rounds`` times, the order rotated each round."""
    per_run = max(1, round(seconds / rounds))
    runs = {name: [] for name in endpoints}
    names = list(endpoints)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            url, headers = endpoints[name]
            if warmup:
                wrk.run(url, warmup, headers)
            result = wrk.run(url, per_run, headers)
            runs[name].append(result)
            log(f"  round {round_number + 1}/{rounds}  {name:<16} {result.requests_per_sec:9.1f} req/s")
    return runs


def summarize(runs: dict[str, list]) -> dict[str, dict]:
    """Medians over the rounds: on a shared machine a busy neighbour spoils a round, not all."""
    summary = {}
    for name, results in runs.items():
        p50 = [r.p50_ms for r in results if r.p50_ms is not None]
        p99 = [r.p99_ms for r in results if r.p99_ms is not None]
        rates = [r.requests_per_sec for r in results]
        summary[name] = {
            "requests_per_sec": round(statistics.median(rates), 1),
            "requests_per_sec_mean": round(statistics.mean(rates), 1),
            "p50_ms": round(statistics.median(p50), 2) if p50 else None,
            "p99_ms": round(statistics.median(p99), 2) if p99 else None,
            "non_2xx_3xx": sum(r.non_2xx_3xx for r in results),
            "socket_errors": sum(r.socket_errors for r in results),
            "runs": [r.as_dict() for r in results],
        }
    return summary


def ratios(summary: dict[str, dict]) -> list[dict]:
    """The median of the per-round ratios: both endpoints of a round ran seconds apart,
    so a slow spell of the machine falls on both."""
    rows = []
    for label, numerator, denominator, target in TARGETS:
        per_round = [n["requests_per_sec"] / d["requests_per_sec"] for n, d in
                     zip(summary[numerator]["runs"], summary[denominator]["runs"])]
        value = statistics.median(per_round)
        rows.append({"name": label, "value": round(value, 3), "target": target,
                     "result": None if target is None else ("PASS" if value >= target else "BELOW"),
                     "per_round": [round(r, 3) for r in per_round]})
    return rows


def print_report(summary: dict, ratio_rows: list[dict]) -> None:
    def ms(value):
        return "-" if value is None else f"{value:.2f} ms"

    log("")
    log("medians over the rounds")
    log(f"{'endpoint':<18}{'req/s':>10}{'p50':>12}{'p99':>12}   per round (req/s)")
    for name, row in summary.items():
        per_round = ", ".join(f"{run['requests_per_sec']:.0f}" for run in row["runs"])
        log(f"{name:<18}{row['requests_per_sec']:>10.1f}{ms(row['p50_ms']):>12}"
            f"{ms(row['p99_ms']):>12}   {per_round}")
        if row["non_2xx_3xx"] or row["socket_errors"]:
            log(f"{'':<18}warning: {row['non_2xx_3xx']} non-2xx/3xx responses, "
                f"{row['socket_errors']} socket errors")
    log("")
    log(f"{'ratio (median of per-round ratios)':<36}{'value':>8}{'target':>10}   "
        f"{'result':<8}per round (min-max)")
    for row in ratio_rows:
        target = "-" if row["target"] is None else f">= {row['target']:.2f}"
        spread = f"{min(row['per_round']):.2f}-{max(row['per_round']):.2f}"
        log(f"{row['name']:<36}{row['value']:>8.3f}{target:>10}   {row['result'] or 'info':<8}{spread}")


def git_revision() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return done.stdout.strip() or None


# -- the run --------------------------------------------------------------------

def main() -> int:
    seconds = env_int("BENCH_SECONDS", 10)
    rounds = env_int("BENCH_ROUNDS", 5)
    warmup = env_int("BENCH_WARMUP", 2)
    companies = env_int("BENCH_COMPANIES", 100_000)
    per_company = env_int("BENCH_ACTIVATIONS_PER_COMPANY", 10)
    keep = os.environ.get("BENCH_KEEP", "") not in ("", "0")
    wrk.wrk_path()  # fail before seeding when the load generator is missing

    workdir = Path(tempfile.mkdtemp(prefix="mypages-bench-"))
    servers: list[Server] = []
    started = time.perf_counter()
    try:
        log("installing the bench plugin")
        site = plugin.install(workdir)
        module_keys = tuple(plugin.activate(site).MODULE_KEYS)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(p) for p in (site, REPO) if p is not None]
            + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["PYTHONWARNINGS"] = "ignore:pkg_resources is deprecated:UserWarning"

        small_db, large_db = workdir / "small.sqlite", workdir / "large.sqlite"
        small_ini = seed.write_ini(workdir, "small", small_db)
        large_ini = seed.write_ini(workdir, "large", large_db)
        log("migrating and seeding the small database")
        seed.migrate(Path(sys.executable).with_name("mypages"), small_ini, env)
        seeded = seed.seed_small(small_db, module_keys)
        seed.copy_database(small_db, large_db)
        log(f"seeding the large database: {companies:,} companies, "
            f"{companies * per_company:,} module activations")
        large = seed.seed_large(large_db, module_keys, companies, per_company)
        log(f"  done in {large['seconds']} s, {large['database_mib']} MiB")
        seed.check_entitlements(large_db, [seeded.company_id, seeded.company_id + 1,
                                           seeded.company_id + companies // 2])

        def server(name, app_args, ready_path):
            return Server(name, app_args, ready_path, workdir / f"{name}.log", env, REPO)

        servers = [
            server("hello", ["bench.apps.hello:make_app()"], "/"),
            server("one_select", [f"bench.apps.one_select:make_app('sqlite:///{small_db}')"],
                   f"/company/{seeded.company_id}"),
            server("dashboard_small", ["--paste", str(small_ini)], "/login"),
            server("dashboard_large", ["--paste", str(large_ini)], "/login"),
        ]
        log(f"starting {len(servers)} gunicorn servers ({WORKERS} sync workers each)")
        for each in servers:
            each.start()
        by_name = {each.name: each for each in servers}

        dashboard_path = f"/c/{seeded.company_id}/"
        cookies = {name: sign_in(by_name[name].url, seeded)
                   for name in ("dashboard_small", "dashboard_large")}
        checks = [
            lambda: check_plain(by_name["hello"].url, "/", "Hello World!"),
            lambda: check_plain(by_name["one_select"].url, f"/company/{seeded.company_id}",
                                seed.COMPANY_NAME),
            *(lambda name=name: check_dashboard(by_name[name].url, dashboard_path, cookies[name],
                                                seeded) for name in cookies),
        ]
        for check in checks:
            check()

        endpoints = {
            "hello": (by_name["hello"].url + "/", None),
            "one_select": (f"{by_name['one_select'].url}/company/{seeded.company_id}", None),
            **{name: (by_name[name].url + dashboard_path, {"Cookie": f"{SESSION_COOKIE}={cookie}"})
               for name, cookie in cookies.items()},
        }
        log(f"measuring: {seconds} s per endpoint in {rounds} rounds, "
            f"{warmup} s warm-up before each (wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS})")
        runs = measure(endpoints, seconds, rounds, warmup)
        for check in checks:  # the session must have held for the whole run
            check()
        query_plans = inprocess.dashboard_query_plans(large_ini, large_db, seeded)
    finally:
        for each in servers:
            each.stop()
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(runs)
    ratio_rows = ratios(summary)
    print_report(summary, ratio_rows)
    scans = [plan["sql"][:100] for plan in query_plans
             if any(step.startswith("SCAN") for step in plan["plan"])]
    log(f"\nquery plans on the large database: {len(query_plans)} SELECTs per dashboard, "
        + (f"{len(scans)} with a full scan: {scans}" if scans else "every one through an index"))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "settings": {"seconds": seconds, "rounds": rounds, "warmup_seconds": warmup,
                     "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency",
                     "gunicorn": f"--workers {WORKERS} --worker-class sync"},
        "large_database": {"companies": companies, "activations_per_company": per_company,
                           **large, "dashboard_query_plans": query_plans},
        "results": summary,
        "ratios": ratio_rows,
        "total_seconds": round(time.perf_counter() - started, 1),
    }, indent=2) + "\n")
    log(f"\nresults written to {RESULTS.relative_to(REPO)} "
        f"(whole run {time.perf_counter() - started:.0f} s)")
    return 0
