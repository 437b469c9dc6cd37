"""Where an OpenID Connect callback spends its time: the app in-process, timed and profiled.

``python -m bench.profile_sso [CALLBACKS [STATS_FILE]]`` seeds the small database of the
benchmark with the SSO benchmark's Entra ID connection, serves the fake provider from a
gunicorn process of its own (as the benchmark does), and signs in CALLBACKS (default
300) times in this process with WebTest: each time a fresh browser asks ``/sso/start``,
takes the provider's answer over HTTP, then calls the callback. Only the callbacks are
looked at, twice: first timed part by part without a profiler (the parts are wrapped
with a clock; waiting for the provider included), then under cProfile, which prints
the costliest functions. It also prints the SQL statements per callback. STATS_FILE
keeps the raw cProfile data for pstats or snakeviz.
"""
from __future__ import annotations

import cProfile
import functools
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from bench import inprocess, seed, sso
from bench.apps import oidc_idp
from bench.servers import Server, free_port
from bench.workspace import REPO

BASE_URL = "http://localhost"
WARM_UP = 20

#: the parts of a callback: (label, module, attribute); nested parts are indented
PARTS = [
    ("take the attempt (UPDATE sso_attempts, first write)", "mypages.sso.flow", "take_attempt"),
    ("oidc.finish", "mypages.sso.oidc", "finish"),
    ("  code exchange (POST to the token endpoint)", "mypages.sso.oidc", "_exchange"),
    ("  ID token signature (joserfc, key set imported)", "mypages.sso.oidc", "verify_signature"),
    ("  userinfo (GET)", "mypages.sso.oidc", "_userinfo"),
    ("flow.complete (account, groups, session, audit)", "mypages.sso.flow", "complete"),
    ("transaction commit (pyramid_tm)", "transaction._manager", "TransactionManager.commit"),
]


class PartClock:
    """Wraps the functions of ``PARTS`` with a clock, for the timed pass only."""

    def __init__(self):
        self.spent: dict[str, list[float]] = defaultdict(list)
        self._undo = []

    def install(self) -> "PartClock":
        import importlib

        for label, module_name, attribute in PARTS:
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for step in path:
                owner = getattr(owner, step)
            original = getattr(owner, name)
            setattr(owner, name, self._timed(label, original))
            self._undo.append((owner, name, original))
        return self

    def _timed(self, label, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[label].append((time.perf_counter() - started) * 1000)
        return timed

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def reset(self) -> None:
        self.spent.clear()


def main(callbacks: int = 300, stats_file: str | None = None) -> int:
    from webtest import TestApp

    from mypages.cli import migration_sources
    from mypages.db.migrate import upgrade_all
    from pyramid.paster import get_app

    workdir = Path(tempfile.mkdtemp(prefix="mypages-profile-sso-"))
    idp = None
    try:
        database = workdir / "small.sqlite"
        ini = sso.write_ini(workdir, "small", database, BASE_URL)
        registry = get_app(str(ini)).registry
        upgrade_all(registry["db.engine"], migration_sources(registry))
        registry["db.engine"].dispose()
        seeded = seed.seed_small(database, ())
        idp_port = free_port()
        idp_url = f"http://127.0.0.1:{idp_port}"
        sso.seed_sso(ini, seeded.company_id, seeded.email, idp_url)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
        idp = Server("sso_idp", [f"bench.apps.oidc_idp:make_app({idp_url!r}, "
                                 f"{BASE_URL + sso.CALLBACK_PATH!r}, {seeded.email!r})"],
                     oidc_idp.HITS_PATH, workdir / "sso_idp.log", env, REPO, port=idp_port,
                     workers=1, threads=sso.IDP_THREADS).start()

        app = get_app(str(ini))
        dashboard = f"{BASE_URL}/c/{seeded.company_id}/"
        http = httpx.Client(timeout=60)

        def sign_in(around_callback):
            """One whole sign-in; ``around_callback(call)`` runs the callback."""
            browser = TestApp(app, lint=False, extra_environ={
                "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
            to_idp = browser.get("/sso/start", {"email": seeded.email}, status=303)
            path = http.get(to_idp.location).headers["location"][len(BASE_URL):]
            done = around_callback(lambda: browser.get(path))
            if done.status_int != 303 or done.location != dashboard:
                raise RuntimeError(f"the callback answered {done.status}: {done.text[:300]}")

        for _ in range(WARM_UP):  # discovery, keys, templates, connection pools
            sign_in(lambda call: call())

        clock = PartClock().install()
        wall = []

        def timed(call):
            started = time.perf_counter()
            try:
                return call()
            finally:
                wall.append((time.perf_counter() - started) * 1000)

        for _ in range(callbacks):
            sign_in(timed)
        clock.uninstall()

        statements = inprocess.record_statements(app.registry["db.engine"])
        per_callback = []
        profiler = cProfile.Profile()

        def profiled(call):
            first = len(statements)
            profiler.enable()
            try:
                return call()
            finally:
                profiler.disable()
                per_callback.extend(statements[first:])

        for _ in range(callbacks):
            sign_in(profiled)
        http.close()
        app.registry["db.engine"].dispose()
    finally:
        if idp is not None:
            idp.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if stats_file:
        profiler.dump_stats(stats_file)

    print(f"{callbacks} callbacks in this process (WebTest, SQLite; the provider a gunicorn "
          f"process of its own), no profiler:\n")
    print(f"  {'ms per callback':<54}{'median':>8}{'mean':>8}")
    print(f"  {'the whole callback (WSGI, WebTest)':<54}{statistics.median(wall):8.2f}"
          f"{statistics.mean(wall):8.2f}")
    for label, _, _ in PARTS:
        found = clock.spent.get(label)
        if found:
            print(f"    {label:<52}{statistics.median(found):8.2f}{statistics.mean(found):8.2f}")
    print("\nSQL statements per callback:")
    for statement, count in Counter(" ".join(sql.split())[:110]
                                    for sql, _ in per_callback).most_common():
        print(f"  {count / callbacks:5.2f}  {statement}")
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(30)
        print(f"\n--- {callbacks} callbacks under cProfile: top functions by {sort} ---")
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip() and not line.startswith(("   Ordered", "         "))))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300,
                  sys.argv[2] if len(sys.argv) > 2 else None))
