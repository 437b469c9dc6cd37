"""The login benchmark: password sign-in throughput against the raw argon2 verify rate.

1. ``sign_in``     the real mypages app under gunicorn (like every other server here),
                   wrk POSTing the login form of a seeded user without a second factor;
                   only 303 answers to the home page count as sign-ins
2. ``raw_verify``  as many processes as gunicorn has workers, each looping the app's own
                   ``Passwords().verify`` over that user's stored hash: the same argon2
                   parameters (the bench's ini leaves the cost at its default, production's),
                   on the same cores, in turns with ``sign_in``

Target: ``sign_in / raw_verify >= 0.9``: everything a sign-in does beside the hash
(form, CSRF, queries, session and audit rows, the commit, cookies) costs less than a
tenth of the hash.

Failed attempts are throttled (accounts/throttle.py), successful ones are not, so
the same user can sign in over and over; each sign-in adds a user_sessions row and an
audit row. The form's CSRF token lives in the signed session cookie that GET /login
set, so one cookie and one token serve every request.

Settings: BENCH_LOGIN_SECONDS (measured seconds per side, default 20), BENCH_ROUNDS,
BENCH_WARMUP.
"""
from __future__ import annotations

import importlib
import multiprocessing
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import argon2
import httpx

from bench import client, wrk
from bench.measure import env_int, log, measure, print_report, ratios, summarize
from bench.servers import WORKERS
from bench.workspace import Workspace

TARGETS = [("sign_in / raw_verify", "sign_in", "raw_verify", 0.9)]
FORM = "application/x-www-form-urlencoded"
#: a sign-in waits behind up to seven others for one of two workers: far beyond wrk's 2 s
WRK_TIMEOUT = 30

LUA_SCRIPT = """\
-- POST the login form with the same body and cookie every time; count the requests
-- sent and the sign-ins answered.
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "{form}"
wrk.headers["Cookie"] = {cookie}

local home = {home}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  sign_ins = 0
  sent = 0
end

function request()
  sent = sent + 1
  return wrk.format()
end

function response(status, headers, body)
  if status == 303 and (headers["Location"] or headers["location"]) == home then
    sign_ins = sign_ins + 1
  end
end

function done(summary, latency, requests)
  local total, total_sent = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("sign_ins")
    total_sent = total_sent + thread:get("sent")
  end
  io.write(string.format("bench.sign_ins: %d\\n", total))
  io.write(string.format("bench.sent: %d\\n", total_sent))
  io.write(string.format("bench.duration_us: %d\\n", summary.duration))
end
"""


def lua_string(value: str) -> str:
    if not value.isascii():
        raise ValueError(f"not ASCII: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the hash --------------------------------------------------------------------

def stored_hash(database: Path, email: str) -> str:
    with sqlite3.connect(database) as connection:
        found = connection.execute("SELECT password_hash FROM users WHERE email = ?",
                                   (email,)).fetchone()[0]
    connection.close()
    return found


def argon2_parameters(password_hash: str) -> dict:
    """The parameters in the stored hash (what verify costs), checked to be the app's."""
    from mypages.accounts.passwords import Passwords

    found = argon2.extract_parameters(password_hash)
    if Passwords().needs_rehash(password_hash):
        raise RuntimeError(f"the stored hash ({found}) is not made with the app's parameters: "
                           "every sign-in would rehash it")
    return {"type": found.type.name.lower(), "version": found.version,
            "memory_cost_kib": found.memory_cost, "time_cost": found.time_cost,
            "parallelism": found.parallelism, "hash_len": found.hash_len,
            "salt_len": found.salt_len, "argon2_cffi": argon2.__version__}


# -- raw verify --------------------------------------------------------------------

_start_together = None  # in each verifying process: the barrier all of them meet at


def _join(barrier) -> None:
    global _start_together
    _start_together = barrier


def _ready() -> None:
    importlib.import_module("mypages.accounts.passwords")  # before, not while, measuring
    _start_together.wait(timeout=120)


def _verify_for(password_hash: str, password: str, seconds: float) -> list[float]:
    """Loop the app's own verify for ``seconds``, starting with the other processes; like
    wrk, count only what finished in time. Returns each verify's duration (ms)."""
    from mypages.accounts.passwords import Passwords

    passwords = Passwords()  # the default cost, as the app under measure has
    _start_together.wait(timeout=120)  # a process waiting here cannot take a second share
    end = time.monotonic() + seconds
    durations = []
    while True:
        started = time.monotonic()
        passwords.verify(password_hash, password)
        finished = time.monotonic()
        if finished > end:
            return durations
        durations.append((finished - started) * 1000)


@dataclass
class VerifyTurn:
    seconds: float
    verifies: list[int]         # per process
    durations_ms: list[float]   # of every verify, all processes
    non_2xx_3xx = 0
    socket_errors = 0

    @property
    def requests_per_sec(self) -> float:
        return sum(self.verifies) / self.seconds

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
                "verifies": self.verifies, "p50_ms": self.p50_ms and round(self.p50_ms, 2),
                "p99_ms": self.p99_ms and round(self.p99_ms, 2)}


class RawVerify:
    """``WORKERS`` processes verifying side by side; a turn: ``raw_verify(seconds)``."""

    def __init__(self, password_hash: str, password: str, processes: int = WORKERS):
        self.password_hash, self.password, self.processes = password_hash, password, processes
        context = multiprocessing.get_context("spawn")
        self.pool = context.Pool(processes, initializer=_join,
                                 initargs=(context.Barrier(processes),))
        self.pool.starmap(_ready, [()] * processes, chunksize=1)

    def __call__(self, seconds: int) -> VerifyTurn:
        done = self.pool.starmap(_verify_for,
                                 [(self.password_hash, self.password, seconds)] * self.processes,
                                 chunksize=1)
        return VerifyTurn(seconds, [len(durations) for durations in done],
                          [d for durations in done for d in durations])

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


# -- sign-in -----------------------------------------------------------------------

class SignInLoad:
    """wrk with the login script, then a wait until the server has served every request
    wrk sent: with eight connections on two workers up to eight sign-ins are still queued
    when wrk stops, seconds of work that must not run into the next turn. Keeps every
    run, warm-ups too, to square with the rows."""

    def __init__(self, url: str, script: Path, database: Path):
        self.url, self.script, self.database = url, script, database
        self.all_runs: list[wrk.WrkResult] = []
        self.sessions_expected = sign_in_rows(database)["user_sessions"]

    def __call__(self, seconds: int) -> wrk.SignInTurn:
        result = wrk.run(self.url, seconds, script=self.script, timeout=WRK_TIMEOUT)
        self.all_runs.append(result)
        self.sessions_expected += result.script_counts["sent"]
        self._drain()
        return wrk.SignInTurn(result)

    def _drain(self, idle: float = 1.5) -> None:
        """Until the sessions of all requests sent are there, or no more come for ``idle``
        seconds (the check after the run reports the missing ones)."""
        found, changed = sign_in_rows(self.database)["user_sessions"], time.monotonic()
        while found < self.sessions_expected and time.monotonic() - changed < idle:
            time.sleep(0.05)
            now = sign_in_rows(self.database)["user_sessions"]
            if now != found:
                found, changed = now, time.monotonic()


def check_sign_in(base_url: str, body: str, cookie: str, workspace: Workspace) -> None:
    """The request wrk sends must sign in: 303 to home, and the new session shows the
    dashboard."""
    answer = httpx.post(base_url + "/login", content=body,
                        headers={"Content-Type": FORM, "Cookie": cookie}, timeout=60)
    if answer.status_code != 303 or answer.headers.get("location") != base_url + "/":
        raise RuntimeError(f"POST /login answered {answer.status_code} "
                           f"({answer.headers.get('location', '')}), not 303 to the home page")
    session = answer.cookies.get(client.SESSION_COOKIE)
    if not session:
        raise RuntimeError("POST /login set no session cookie")
    client.check_dashboard(base_url, f"/c/{workspace.seeded.company_id}/", session,
                           workspace.seeded)


def sign_in_rows(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        counts = {
            "user_sessions": connection.execute("SELECT COUNT(*) FROM user_sessions").fetchone()[0],
            "signed_in_audit_events": connection.execute(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.signed_in'").fetchone()[0],
        }
    connection.close()
    return counts


def check_rows(runs: list[wrk.WrkResult], before: dict, after: dict) -> dict:
    """Every response wrk saw is a sign-in, and every request it sent left its session row
    and its audit row (those still queued when wrk stopped are served all the same)."""
    requests = sum(r.requests for r in runs)
    found = {
        "wrk_runs": len(runs), "wrk_requests": requests,
        "sign_ins_303": sum(r.script_counts["sign_ins"] for r in runs),
        "sent": sum(r.script_counts["sent"] for r in runs),
        "non_2xx_3xx": sum(r.non_2xx_3xx for r in runs),
        "socket_errors": sum(r.socket_errors for r in runs),
        "new_user_sessions": after["user_sessions"] - before["user_sessions"],
        "new_signed_in_audit_events": (after["signed_in_audit_events"]
                                       - before["signed_in_audit_events"]),
    }
    problems = []
    if found["non_2xx_3xx"]:
        problems.append(f"{found['non_2xx_3xx']} non-2xx/3xx responses")
    if found["socket_errors"]:
        problems.append(f"{found['socket_errors']} socket errors")
    if found["sign_ins_303"] != requests:
        problems.append(f"{requests - found['sign_ins_303']} of {requests} responses "
                        "were no sign-in")
    if not requests <= found["new_user_sessions"] <= found["sent"]:
        problems.append(f"{found['new_user_sessions']} new sessions for {requests} answered "
                        f"and {found['sent']} sent requests")
    if found["new_signed_in_audit_events"] != found["new_user_sessions"]:
        problems.append(f"{found['new_signed_in_audit_events']} sign-in audit events for "
                        f"{found['new_user_sessions']} new sessions")
    return {**found, "problems": problems, "passed": not problems}


# -- the benchmark -------------------------------------------------------------------

def run(workspace: Workspace) -> dict:
    """Serve, check, measure and report; returns the section for the results file."""
    seconds = env_int("BENCH_LOGIN_SECONDS", 20)
    rounds = env_int("BENCH_ROUNDS", 5)
    warmup = env_int("BENCH_WARMUP", 2)
    seeded = workspace.seeded
    # a database of its own: the thousands of sessions stay out of the dashboard's
    database, ini = workspace.copy_database("login")
    password_hash = stored_hash(database, seeded.email)
    parameters = argon2_parameters(password_hash)
    log(f"argon2{parameters['type']} as the app hashes: "
        f"memory_cost={parameters['memory_cost_kib']} KiB, time_cost={parameters['time_cost']}, "
        f"parallelism={parameters['parallelism']}")

    server = workspace.server("login", ["--paste", str(ini)], "/login")
    raw_verify = None
    try:
        log(f"starting a gunicorn server ({WORKERS} sync workers) "
            f"and {WORKERS} verifying processes")
        server.start()
        raw_verify = RawVerify(password_hash, seeded.password)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = client.login_form_token(http)
            cookie = f"{client.SESSION_COOKIE}={http.cookies[client.SESSION_COOKIE]}"
        body = urlencode(client.login_body(seeded, token))
        check_sign_in(server.url, body, cookie, workspace)

        script = workspace.directory / "login.lua"
        script.write_text(LUA_SCRIPT.format(body=lua_string(body), form=FORM,
                                            cookie=lua_string(cookie),
                                            home=lua_string(server.url + "/")))
        sign_in = SignInLoad(server.url + "/login", script, database)
        log(f"measuring: {seconds} s each in {rounds} rounds, {warmup} s warm-up before the "
            f"first round (wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS}, POST /login)")
        before = sign_in_rows(database)
        runs = measure({"sign_in": sign_in, "raw_verify": raw_verify}, seconds, rounds, warmup)
        after = sign_in_rows(database)
        check_sign_in(server.url, body, cookie, workspace)  # the cookie held for the whole run
    finally:
        if raw_verify is not None:
            raw_verify.close()
        server.stop()

    checks = check_rows(sign_in.all_runs, before, after)
    summary = summarize(runs)
    ratio_rows = ratios(summary, TARGETS)
    print_report(summary, ratio_rows, unit="per s")
    log(f"(sign_in: 303s to the home page per second, latency as wrk saw it with "
        f"{wrk.CONNECTIONS} connections on {WORKERS} workers;\n raw_verify: verifies per second "
        f"summed over {WORKERS} processes, latency of one verify)")
    log(f"\nchecks: {checks['sent']} requests sent in {checks['wrk_runs']} wrk runs, "
        f"{checks['wrk_requests']} answered, {checks['sign_ins_303']} of them 303 to the home page; "
        f"{checks['new_user_sessions']} new sessions, "
        f"{checks['new_signed_in_audit_events']} sign-in audit events: "
        + ("ok" if checks["passed"] else "FAILED: " + "; ".join(checks["problems"])))
    return {
        "settings": {"seconds": seconds, "rounds": rounds, "warmup_seconds": warmup,
                     "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency "
                            f"--timeout {WRK_TIMEOUT}s, POST /login",
                     "gunicorn": f"--workers {WORKERS} --worker-class sync",
                     "verify_processes": WORKERS},
        "argon2": parameters,
        "results": summary,
        "ratios": ratio_rows,
        "checks": checks,
        "passed": checks["passed"],
    }
