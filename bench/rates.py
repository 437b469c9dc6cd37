"""The rates benchmark: storing a ten-year backfill, and the rates page with a ten-year chart.

Ingest, in this process, on a copy of the small database (SQLite, the app's own engine):

1. ``plugin_first``  40 daily series x 10 years (about 100,000 observations) stored through
                     the plugin's own path, ``mypages_rates.store.store``, one transaction
                     per series as the fetch job's chunks do, into empty tables
2. ``plugin_rerun``  the same again: every value is there already, nothing is written
3. ``raw_insert``    the same rows with one ``executemany`` of a plain INSERT in one
                     transaction, into empty tables

Page, on gunicorn servers as the dashboard benchmark has them, measured with wrk in turns:

4. ``one_select``    one SELECT by primary key (bench/apps/one_select.py)
5. ``rates_page``    ``GET /c/{id}/rates?range=10y`` signed in, for a company that follows
                     five of the series; its chart is the policy rate over ten years
6. ``dashboard``     the company's dashboard on the same server (with the Rates card), for
                     what any signed-in page of the portal costs

Settings: BENCH_RATES_SERIES (40), BENCH_RATES_YEARS (10), BENCH_RATES_ROUNDS (3),
BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP (as for the dashboard).
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import asdict, dataclass

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bench import client, wrk
from bench.measure import env_int, log, measure, print_report, ratios, summarize
from bench.servers import WORKERS
from bench.workspace import Workspace
from mypages.db import engine_from_url, utcnow
from mypages.modules.models import ModuleActivation, ModuleState
from mypages_rates.fakes.data import History
from mypages_rates.models import Follow, Observation, Revision, Series
from mypages_rates.sources import Observation as Published
from mypages_rates.sources.builtin import built_in
from mypages_rates.store import ensure_series, store

TARGETS_INGEST = [
    ("plugin_first / raw_insert", "plugin_first", "raw_insert", 0.5),
    ("plugin_rerun / plugin_first", "plugin_rerun", "plugin_first", 2.0),
]
TARGETS_PAGE = [("rates_page / one_select", "rates_page", "one_select", 0.5),
                ("rates_page / dashboard", "rates_page", "dashboard", None),
                ("dashboard / one_select", "dashboard", "one_select", None)]
#: the series the page's company follows; the first is charted
FOLLOWED = ("SECBREPOEFF", "SEDP3MSTIBORDELAYC", "SEKEURPMI", "SEKUSDPMI", "SWESTR")
TODAY = dt.date(2026, 6, 5)
CHART = re.compile(r'<svg[^>]*class="rates-chart"')
LINE = re.compile(r'<path[^>]* d="(M[^"]+)"')


@dataclass
class IngestResult:
    """One turn of ingest, shaped like a wrk result: observations per second."""

    requests_per_sec: float
    seconds: float
    observations: int
    p50_ms: None = None
    p99_ms: None = None
    non_2xx_3xx: int = 0
    socket_errors: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def backfill(years: int, count: int) -> list[tuple[str, str, list[Published]]]:
    """``count`` series of the built-in sources, ``years`` of generated history each, as
    the sources give them: (source, code, observations)."""
    history = History(TODAY)
    first = TODAY.replace(year=TODAY.year - years)
    chosen = []
    for source in built_in():
        for spec in source.series():
            if len(chosen) == count:
                continue
            try:
                values = (history.ecb(spec.code) if source.key == "ecb" else
                          history.fixer(spec.code) if source.key == "fixer" else
                          history.series(spec.code))
            except KeyError:  # no generated history (a closed currency)
                continue
            if len(values) > 200 * years:  # daily series only
                chosen.append((source.key, spec.code,
                               [Published(day, value) for day, value in sorted(values.items())
                                if day > first]))
    # fewer daily series than asked for: copies of them, as series of a source of their own
    copies = [(("bench", f"{code}-{n}", observations)) for n in range(1, count)
              for _, code, observations in chosen]
    chosen += copies[:count - len(chosen)]
    # the followed ones first, so a short run still charts them
    chosen.sort(key=lambda item: (item[1] not in FOLLOWED, FOLLOWED.index(item[1])
                                  if item[1] in FOLLOWED else 0))
    return chosen


def _series_ids(engine, data) -> dict[tuple[str, str], int]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        ids = {}
        for source in built_in():
            rows = ensure_series(session, source.key, source.series())
            ids.update({(source.key, code): row.id for code, row in rows.items()})
        ids.update({(row.source, row.code): row.id
                    for row in session.scalars(select(Series).where(Series.source == "bench"))})
        for key, code, _ in data:
            if (key, code) not in ids:
                row = Series(source=key, code=code, kind="rate", precision=4, closed=False)
                session.add(row)
                session.flush()
                ids[(key, code)] = row.id
    return {(key, code): ids[(key, code)] for key, code, _ in data}


def _empty(engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(Revision))
        session.execute(delete(Observation))


def _count(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Observation))


def _plugin(engine, data, ids, fetched_at) -> tuple[float, int]:
    started, added = time.perf_counter(), 0
    for key, code, observations in data:
        with Session(engine) as session, session.begin():
            added += store(session, ids[(key, code)], observations, fetched_at).added
    return time.perf_counter() - started, added


def _raw(engine, data, ids, fetched_at) -> float:
    """The rows as the plugin writes them (a value as exact text on SQLite), inserted by
    the database driver at once."""
    fetched = fetched_at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    rows = [(ids[(key, code)], obs.day.isoformat(), format(obs.value, "f"), fetched, None, 0)
            for key, code, observations in data for obs in observations]
    connection = engine.raw_connection()
    try:
        connection.cursor().executemany(
            "INSERT INTO rates_observations (series_id, day, value, fetched_at, published_at, "
            "revision) VALUES (?, ?, ?, ?, ?, ?)", rows)
        connection.commit()
    finally:
        connection.close()
    return time.perf_counter() - started


def ingest(database_url: str, data, rounds: int) -> dict[str, list[IngestResult]]:
    """Each round: the plugin's first and second store and the raw insert, the order of the
    plugin's pair and the raw insert rotated; every side starts from what it needs."""
    engine = engine_from_url(database_url)
    ids = _series_ids(engine, data)
    total = sum(len(observations) for _, _, observations in data)
    runs: dict[str, list[IngestResult]] = {"plugin_first": [], "plugin_rerun": [],
                                           "raw_insert": []}

    def result(seconds):
        return IngestResult(round(total / seconds, 1), round(seconds, 3), total)

    try:
        for number in range(rounds):
            for side in (("plugin", "raw") if number % 2 == 0 else ("raw", "plugin")):
                _empty(engine)
                if side == "raw":
                    runs["raw_insert"].append(result(_raw(engine, data, ids, utcnow())))
                    if _count(engine) != total:
                        raise RuntimeError("the raw insert did not store every row")
                    continue
                seconds, added = _plugin(engine, data, ids, utcnow())
                if added != total or _count(engine) != total:
                    raise RuntimeError(f"the plugin stored {added} of {total} observations")
                runs["plugin_first"].append(result(seconds))
                seconds, added = _plugin(engine, data, ids, utcnow())
                if added:
                    raise RuntimeError(f"a second store of the same values added {added}")
                runs["plugin_rerun"].append(result(seconds))
            log(f"  round {number + 1}/{rounds}  " + "  ".join(
                f"{name} {results[-1].seconds:.2f} s" for name, results in runs.items()))
    finally:
        engine.dispose()
    return runs


def seed_page(database_url: str, company_id: int, data) -> int:
    """The company gets the Rates module and follows five series; returns the charted one's
    id."""
    engine = engine_from_url(database_url)
    ids = _series_ids(engine, data)
    by_code = {code: ids[(key, code)] for key, code, _ in data}
    now = utcnow()
    with Session(engine) as session, session.begin():
        session.add(ModuleActivation(company_id=company_id, module_key="rates",
                                     state=ModuleState.active, purchased_at=now, updated_at=now))
        session.add_all(Follow(company_id=company_id, series_id=by_code[code])
                        for code in FOLLOWED if code in by_code)
    # the ingest's rounds left a write-ahead log of hundreds of MiB that every read would
    # look through until the servers' writes checkpoint it: written back first, as a
    # database that took its backfill days ago would be
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return by_code[FOLLOWED[0]]


def check_page(base_url: str, path: str, cookie: str, years: int) -> int:
    """The page must show the chart with years of points; returns how many it draws."""
    page = httpx.get(base_url + path, cookies={client.SESSION_COOKIE: cookie}, timeout=30)
    if page.status_code != 200 or not CHART.search(page.text):
        raise RuntimeError(f"{path} answered {page.status_code} without the chart")
    points = LINE.search(page.text[CHART.search(page.text).start():]).group(1).count("L") + 1
    if points < 200 * min(years, 3):
        raise RuntimeError(f"{path} draws {points} points, not years of them")
    return points


def run(workspace: Workspace) -> dict:
    count = env_int("BENCH_RATES_SERIES", 40)
    years = env_int("BENCH_RATES_YEARS", 10)
    ingest_rounds = env_int("BENCH_RATES_ROUNDS", 3)
    seconds = env_int("BENCH_SECONDS", 10)
    rounds = env_int("BENCH_ROUNDS", 5)
    warmup = env_int("BENCH_WARMUP", 2)
    seeded = workspace.seeded

    database, ini = workspace.copy_database("rates")
    url = f"sqlite:///{database}"
    data = backfill(years, count)
    total = sum(len(observations) for _, _, observations in data)
    log(f"ingest: {len(data)} series x {years} years = {total:,} observations, "
        f"{ingest_rounds} rounds")
    ingest_summary = summarize(ingest(url, data, ingest_rounds))
    ingest_ratios = ratios(ingest_summary, TARGETS_INGEST)
    print_report(ingest_summary, ingest_ratios, unit="obs/s")

    series_id = seed_page(url, seeded.company_id, data)
    path = f"/c/{seeded.company_id}/rates?range=10y&series={series_id}"
    servers = [
        workspace.server("one_select",
                         [f"bench.apps.one_select:make_app('{url}')"],
                         f"/company/{seeded.company_id}"),
        workspace.server("rates_page", ["--paste", str(ini)], "/login"),
    ]
    try:
        log(f"\nstarting {len(servers)} gunicorn servers ({WORKERS} sync workers each)")
        for each in servers:
            each.start()
        by_name = {each.name: each for each in servers}
        cookie = client.sign_in(by_name["rates_page"].url, seeded)
        points = check_page(by_name["rates_page"].url, path, cookie, years)
        log(f"the page charts {points} points of {years} years")
        endpoints = {
            "one_select": (f"{by_name['one_select'].url}/company/{seeded.company_id}", None),
            "rates_page": (by_name["rates_page"].url + path,
                           {"Cookie": f"{client.SESSION_COOKIE}={cookie}"}),
            # the core's own page on the same server, for what any signed-in page costs
            "dashboard": (f"{by_name['rates_page'].url}/c/{seeded.company_id}/",
                          {"Cookie": f"{client.SESSION_COOKIE}={cookie}"}),
        }
        log(f"measuring: {seconds} s per endpoint in {rounds} rounds, {warmup} s warm-up "
            f"before the first round (wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS})")
        turns = {name: (lambda s, url=url, headers=headers: wrk.run(url, s, headers))
                 for name, (url, headers) in endpoints.items()}
        runs = measure(turns, seconds, rounds, warmup)
        check_page(by_name["rates_page"].url, path, cookie, years)
    finally:
        for each in servers:
            each.stop()
    page_summary = summarize(runs)
    page_ratios = ratios(page_summary, TARGETS_PAGE)
    print_report(page_summary, page_ratios)
    return {
        "settings": {"series": len(data), "years": years, "observations": total,
                     "ingest_rounds": ingest_rounds, "seconds": seconds, "rounds": rounds,
                     "warmup_seconds": warmup,
                     "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency",
                     "gunicorn": f"--workers {WORKERS} --worker-class sync"},
        "ingest": {"results": ingest_summary, "ratios": ingest_ratios},
        "page": {"chart_points": points, "results": page_summary, "ratios": page_ratios},
        "ratios": ingest_ratios + page_ratios,
    }
