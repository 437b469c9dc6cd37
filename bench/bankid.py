"""The BankID benchmark: complete BankID sign-ins per second through the plugin, against the
bare RP client making the same calls to the same fake, in the same run.

1. ``plugin_sign_in``  the real mypages app under gunicorn (2 sync workers, like every other
                       server here) with plugins/bankid configured against the fake RP API
                       over mutual TLS. Each sign-in is a fresh browser (httpx, its own
                       cookies, its own client address through a trusted proxy's
                       X-Forwarded-For): GET /bankid/sign-in, POST /bankid/start (the app
                       calls ``auth``), GET the order's status (the app calls ``collect``,
                       which completes: the person, the signature and the OCSP response are
                       checked and kept), POST finish (the session is made). Only a finish
                       answering 303 with a session cookie counts.
2. ``bare_rp_client``  the plugin's RpClient alone, in as many threads, calling ``auth`` and
                       ``collect`` until complete: the BankID calls of a sign-in and nothing
                       around them.

The fake (bench/apps/bankid_fake.py) runs in a process of its own and completes every order
at its first collect, with a real XML signature and OCSP response. Both sides use
``BENCH_BANKID_THREADS`` threads (default 4) in this process.

Target: ``plugin_sign_in / bare_rp_client >= 0.8``.

Settings: BENCH_BANKID_SECONDS (measured seconds per side, default 20), BENCH_ROUNDS,
BENCH_WARMUP.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.apps.bankid_fake import PERSON
from bench.measure import env_int, log, measure, print_report, ratios, summarize
from bench.servers import free_port
from bench.workspace import REPO, Workspace

TARGETS = [("plugin_sign_in / bare_rp_client", "plugin_sign_in", "bare_rp_client", 0.8)]
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD_VARIABLE = "MYPAGES_BENCH_BANKID_PASSWORD"


@dataclass
class LoopTurn:
    """Sign-ins done by threads side by side for ``seconds``."""

    seconds: float
    durations_ms: list[float] = field(default_factory=list)
    failures: int = 0
    socket_errors: int = 0

    @property
    def requests_per_sec(self) -> float:
        return len(self.durations_ms) / self.seconds

    @property
    def non_2xx_3xx(self) -> int:
        return self.failures

    @property
    def p50_ms(self) -> float | None:
        return statistics.median(self.durations_ms) if self.durations_ms else None

    @property
    def p99_ms(self) -> float | None:
        if len(self.durations_ms) < 2:
            return self.p50_ms
        return statistics.quantiles(self.durations_ms, n=100)[98]

    def as_dict(self) -> dict:
        return {"requests_per_sec": round(self.requests_per_sec, 3), "seconds": self.seconds,
                "sign_ins": len(self.durations_ms), "failures": self.failures,
                "p50_ms": self.p50_ms and round(self.p50_ms, 2),
                "p99_ms": self.p99_ms and round(self.p99_ms, 2)}


def run_threads(threads: int, seconds: int, once) -> LoopTurn:
    """``once(thread_state)`` in ``threads`` threads until ``seconds`` pass; it returns True
    for a complete sign-in."""
    turn = LoopTurn(seconds)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(number):
        state = {"number": number}
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                done = once(state)
            except httpx.TransportError:
                with lock:
                    turn.socket_errors += 1
                continue
            with lock:
                if done:
                    turn.durations_ms.append((time.perf_counter() - began) * 1000)
                else:
                    turn.failures += 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(loop, range(threads)))
    return turn


class PluginSignIn:
    """Whole sign-ins through the served app, each from a fresh browser and address."""

    def __init__(self, url: str, threads: int):
        self.url, self.threads = url, threads
        self.addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
                          for n in itertools.count(1))
        self.lock = threading.Lock()

    def once(self, state) -> bool:
        with self.lock:
            address = next(self.addresses)
        headers = {"X-Forwarded-For": address, "Accept-Language": "en"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as browser:
            page = browser.get("/bankid/sign-in")
            token = CSRF_PATTERN.search(page.text).group(1)
            started = browser.post("/bankid/start", data={
                "csrf_token": token, "purpose": "sign_in", "device": "qr", "restart": "1",
                "next": ""})
            if started.status_code != 303:
                return False
            order = started.headers["location"].rstrip("/").rsplit("/", 1)[-1]
            state_ = browser.get(f"/bankid/order/{order}/status").json()
            if not state_.get("done"):
                return False
            finished = browser.post(f"/bankid/order/{order}/finish",
                                    data={"csrf_token": token})
            return finished.status_code == 303 and "mypages_session" in finished.cookies

    def __call__(self, seconds: int) -> LoopTurn:
        return run_threads(self.threads, seconds, self.once)


class BareClient:
    """The plugin's RP client alone: ``auth`` then ``collect`` until complete."""

    def __init__(self, config, threads: int):
        from mypages_bankid.client import RpClient

        self.clients = [RpClient(config) for _ in range(threads)]
        self.threads = threads

    def once(self, state) -> bool:
        client = self.clients[state["number"]]
        order = client.auth("10.0.0.1")
        while True:
            answer = client.collect(order["orderRef"])
            if answer["status"] != "pending":
                return answer["status"] == "complete"

    def __call__(self, seconds: int) -> LoopTurn:
        return run_threads(self.threads, seconds, self.once)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def start_fake(directory: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.apps.bankid_fake",
                                str(directory), str(port)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (directory / "rp.p12").exists():
            try:
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return process, f"https://localhost:{port}/rp/v6.0/"
            except OSError:
                pass
        if process.poll() is not None:
            raise RuntimeError("the fake BankID service exited")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the fake BankID service did not start")


def link_person(ini: Path, email: str) -> None:
    """The seeded user's BankID, linked through the plugin (the blind index needs the app)."""
    from pyramid.paster import get_app
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from mypages_bankid import identities

    app = get_app(str(ini))
    engine = app.registry["db.engine"]
    try:
        with Session(engine) as session:
            user_id = session.execute(text("SELECT id FROM users WHERE email = :email"),
                                      {"email": email}).scalar_one()
            identities.link(session, app.registry, user_id, PERSON["personalNumber"],
                            dt.datetime.now(dt.timezone.utc), confirmed=True)
            session.commit()
    finally:
        engine.dispose()


def configure(workspace: Workspace, certificates: Path, fake_url: str) -> tuple[Path, Path]:
    """A copy of the small database, its ini configuring BankID against the fake."""
    database, ini = workspace.copy_database("bankid")
    with ini.open("a") as file:
        file.write(f"bankid.environment = test\nbankid.url = {fake_url}\n"
                   f"bankid.ca_file = {certificates / 'server_ca.pem'}\n"
                   f"bankid.certificate = {certificates / 'rp.p12'}\n"
                   f"bankid.certificate_password_env = {PASSWORD_VARIABLE}\n"
                   f"bankid.signing_ca_file = {certificates / 'signing_ca.pem'}\n"
                   "mypages.trusted_proxies = 127.0.0.1\n")
    return database, ini


def run(workspace: Workspace) -> dict:
    from mypages_bankid.client import RpConfig
    from mypages_bankid.fake import P12_PASSWORD

    seconds = env_int("BENCH_BANKID_SECONDS", 20)
    rounds = env_int("BENCH_ROUNDS", 5)
    warmup = env_int("BENCH_WARMUP", 2)
    threads = env_int("BENCH_BANKID_THREADS", 4)
    certificates = workspace.directory / "bankid-certs"
    certificates.mkdir(exist_ok=True)
    log("starting the fake BankID service")
    fake, fake_url = start_fake(certificates, workspace.env)
    server = None
    bare = None
    try:
        database, ini = configure(workspace, certificates, fake_url)
        workspace.env[PASSWORD_VARIABLE] = P12_PASSWORD
        link_person(ini, workspace.seeded.email)
        server = workspace.server("bankid", ["--paste", str(ini)], "/login").start()
        plugin = PluginSignIn(server.url, threads)
        config = RpConfig("test", fake_url, str(certificates / "server_ca.pem"),
                          str(certificates / "rp.p12"), password=P12_PASSWORD)
        bare = BareClient(config, threads)
        if not plugin.once({"number": 0}) or not bare.once({"number": 0}):
            raise RuntimeError(f"a sign-in did not complete; see {server.log}")
        runs = measure({"plugin_sign_in": plugin, "bare_rp_client": bare}, seconds, rounds,
                       warmup)
    finally:
        if bare is not None:
            bare.close()
        if server is not None:
            server.stop()
        fake.terminate()
        fake.wait(timeout=20)
    summary = summarize(runs)
    ratio_rows = ratios(summary, TARGETS)
    print_report(summary, ratio_rows, unit="sign-ins/s")
    return {"threads": threads, "results": summary, "ratios": ratio_rows,
            # the target is reported, never failing the run; failed sign-ins do
            "passed": all(row["non_2xx_3xx"] == 0 and row["socket_errors"] == 0
                          for row in summary.values())}
