"""The SSO benchmark: completed OpenID Connect callbacks against the bare verification of
the ID token's signature, in the same run.

1. ``sso_callback``     the real mypages app under gunicorn (like every other server here)
                        with the company's Entra ID connection (plugins/sso_azure) pointing
                        at the core's fake provider (pyop), served by a gunicorn of its own
                        on loopback. wrk sends prepared callbacks, ``GET
                        /sso/oidc/callback?code=...&state=...``, each with the cookie of
                        the browser that started it; the app takes the single-use state,
                        exchanges the code over HTTP, verifies the ID token, asks userinfo
                        and answers 303 with a new session. Only 303s to the dashboard count.
2. ``id_token_verify``  as many processes as gunicorn has workers, each looping joserfc's
                        RS256 verification over ID tokens the same fake issued in this run,
                        with its public key imported once: the signature check and nothing
                        around it

The ratio ``sso_callback / id_token_verify`` has no target: a callback also makes two
HTTP requests to the provider and writes the attempt, the session and the audit
trail, so it is far below 1; the run says where a callback's CPU goes (app workers,
provider, wrk), and ``python -m bench.profile_sso`` shows the app's share in detail.

State and code are single use, so callbacks are prepared before every turn: a fresh
browser (httpx, its own cookie) asks ``/sso/start`` and follows the app's redirect to
the provider's authorization endpoint, which answers with the code and the state for
the callback. Nobody calls that callback but wrk, once.

Settings: BENCH_SSO_SECONDS (measured seconds per side, default 20), BENCH_ROUNDS,
BENCH_WARMUP.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import multiprocessing
import os
import resource
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from bench import client, seed, wrk
from bench.apps import oidc_idp
from bench.login import VerifyTurn, lua_string
from bench.measure import env_int, log, measure, print_report, ratios, summarize
from bench.servers import WORKERS, Server, free_port
from bench.workspace import Workspace

TARGETS = [("sso_callback / id_token_verify", "sso_callback", "id_token_verify", None)]
CALLBACK_PATH = "/sso/oidc/callback"
#: a callback waits behind up to seven others for one of two workers
WRK_TIMEOUT = 30
#: the provider's threads: one per app worker asking at once, and the preparing browsers
IDP_THREADS = 4
#: browsers preparing callbacks side by side
PREPARING_BROWSERS = 8
#: prepared callbacks per turn: this many times what the fastest turn so far would use
PREPARE_MARGIN = 1.5
FIRST_GUESS_PER_SEC = 100
#: seconds a prepared callback is kept for a later turn: well within the attempt's ten
#: minutes (flow.ATTEMPT_LIFETIME) and the provider's code lifetime (pyop: ten minutes)
PREPARED_MAX_AGE = 300
#: ID tokens fetched for the verifying processes
TOKENS = 16

LUA_SCRIPT = """\
-- GET the prepared callbacks of the file named by the first argument, one each, each
-- with the cookie of the browser that started it; count the requests sent and the
-- sign-ins answered. A state never works twice: when the file runs out, stop and say so.
local dashboard = {dashboard}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  entries = {{}}
  for line in io.lines(args[1]) do
    local cookie, path = line:match("^([^\\t]+)\\t(.+)$")
    table.insert(entries, {{cookie, path}})
  end
  prepared = #entries
  position = 0
  sent = 0
  sign_ins = 0
  exhausted = 0
end

function request()
  position = position + 1
  local entry = entries[position]
  if entry == nil then
    exhausted = exhausted + 1
    wrk.thread:stop()
    return wrk.format("GET", "/login")
  end
  sent = sent + 1
  return wrk.format("GET", entry[2], {{Cookie = entry[1]}})
end

function response(status, headers, body)
  if status == 303 and (headers["Location"] or headers["location"]) == dashboard then
    sign_ins = sign_ins + 1
  end
end

function done(summary, latency, requests)
  local totals = {{sign_ins = 0, sent = 0, exhausted = 0, prepared = 0}}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  for name, value in pairs(totals) do
    io.write(string.format("bench.%s: %d\\n", name, value))
  end
  io.write(string.format("bench.duration_us: %d\\n", summary.duration))
end
"""


# -- the database --------------------------------------------------------------------

def write_ini(directory: Path, name: str, database: Path, base_url: str) -> Path:
    """The benchmark's ini with the address the app builds its redirect URI from."""
    ini = seed.write_ini(directory, name, database)
    with ini.open("a") as file:
        file.write(f"mypages.base_url = {base_url}\n")
    return ini


def seed_sso(ini: Path, company_id: int, email: str, idp_url: str) -> None:
    """Through the core's models: the "sso" module bought, the company's mail domain
    verified, its Entra ID connection (client secret encrypted as the tab stores it),
    and the admin linked to their Entra ID identity (``tid`` + ``oid``), as after a
    first sign-in."""
    from pyramid.paster import get_app

    from mypages.accounts.models import User
    from mypages.db import utcnow
    from mypages.modules.models import ModuleActivation, ModuleState
    from mypages.sso.connections import store_secrets
    from mypages.sso.models import SsoConnection, SsoLink, VerifiedDomain
    from sqlalchemy import select

    registry = get_app(str(ini)).registry
    now = utcnow()
    with registry["db.session_factory"].begin() as session:
        session.add(ModuleActivation(company_id=company_id, module_key="sso",
                                     state=ModuleState.active, purchased_at=now, updated_at=now))
        session.add(VerifiedDomain(company_id=company_id, domain=email.rsplit("@", 1)[1],
                                   token="bench-domain-token", verified_at=now))
        connection = SsoConnection(company_id=company_id, provider="azure", protocol="oidc",
                                   settings={"tenant_id": oidc_idp.TENANT_ID,
                                             "client_id": oidc_idp.CLIENT_ID,
                                             "authority": idp_url},
                                   admin_tested_at=now)
        store_secrets(registry, connection, {"client_secret": oidc_idp.CLIENT_SECRET})
        session.add(connection)
        session.flush()
        user_id = session.scalar(select(User.id).where(User.email == email))
        session.add(SsoLink(connection_id=connection.id, user_id=user_id, last_sign_in_at=now,
                            subject=f"{oidc_idp.TENANT_ID}:{oidc_idp.OBJECT_ID}"))
    registry["db.engine"].dispose()


def counts(database: Path) -> dict[str, int]:
    queries = {
        "user_sessions": "SELECT COUNT(*) FROM user_sessions",
        "signed_in_audit_events": "SELECT COUNT(*) FROM audit_events "
                                  "WHERE action = 'account.signed_in'",
        "rejected_audit_events": "SELECT COUNT(*) FROM audit_events WHERE action = 'sso.rejected'",
        "used_attempts": "SELECT COUNT(*) FROM sso_attempts WHERE used_at IS NOT NULL",
    }
    with sqlite3.connect(database) as connection:
        found = {name: connection.execute(sql).fetchone()[0] for name, sql in queries.items()}
    connection.close()
    return found


def code_verifier(database: Path, state: str) -> str:
    """PKCE's verifier of the attempt ``state`` names, as the app stored it."""
    with sqlite3.connect(database) as connection:
        found = connection.execute("SELECT code_verifier FROM sso_attempts WHERE state_hash = ?",
                                   (hashlib.sha256(state.encode()).hexdigest(),)).fetchone()[0]
    connection.close()
    return found


# -- CPU of the processes -------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # the name may hold spaces and parentheses


def server_cpu(server: Server) -> float:
    """CPU seconds (user + system) of a gunicorn master and its workers so far."""
    master = server.process.pid
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        # fields[1] is the parent's pid, fields[11] and [12] utime and stime
        if fields and (int(entry.name) == master or int(fields[1]) == master):
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def wrk_cpu() -> float:
    """CPU seconds of the children this process has waited for: the wrk runs."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


# -- preparing callbacks --------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    cookie: str   # the Cookie header of the browser that started the attempt
    path: str     # /sso/oidc/callback?code=...&state=...

    @property
    def state(self) -> str:
        return parse_qs(urlsplit(self.path).query)["state"][0]


class Preparer:
    """Browsers that start sign-ins and stop short of the callback."""

    def __init__(self, app_url: str, idp: Server, email: str):
        self.app_url, self.email = app_url, email
        self.authorize_url = f"{idp.url}/{oidc_idp.TENANT_ID}/oauth2/v2.0/authorize"
        self.callback_url = app_url + CALLBACK_PATH
        self._local = threading.local()
        self._clients_made: list[httpx.Client] = []
        self._browsers = ThreadPoolExecutor(PREPARING_BROWSERS)

    def _clients(self) -> tuple[httpx.Client, httpx.Client]:
        if not hasattr(self._local, "app"):
            self._local.app = httpx.Client(base_url=self.app_url, timeout=60)
            self._local.idp = httpx.Client(timeout=60)
            self._clients_made += [self._local.app, self._local.idp]
        return self._local.app, self._local.idp

    def one(self, _=None) -> Prepared:
        browser, idp = self._clients()
        browser.cookies.clear()  # a new browser: its attempt is bound to its own cookie
        to_idp = browser.get("/sso/start", params={"email": self.email})
        location = to_idp.headers.get("location", "")
        if to_idp.status_code != 303 or not location.startswith(self.authorize_url + "?"):
            raise RuntimeError(f"/sso/start answered {to_idp.status_code} ({location}), "
                               "not 303 to the provider's authorization endpoint")
        back = idp.get(location)
        location = back.headers.get("location", "")
        if back.status_code != 302 or not location.startswith(self.callback_url + "?"):
            raise RuntimeError(f"the provider answered {back.status_code} ({location}), "
                               "not 302 to the app's callback")
        query = parse_qs(urlsplit(location).query)
        if "code" not in query or "state" not in query:
            raise RuntimeError(f"no code or state in the provider's answer: {location}")
        cookie = browser.cookies.get(client.SESSION_COOKIE)
        if not cookie:
            raise RuntimeError("/sso/start set no session cookie")
        return Prepared(f"{client.SESSION_COOKIE}={cookie}", location[len(self.app_url):])

    def many(self, count: int) -> list[Prepared]:
        return list(self._browsers.map(self.one, range(count)))

    def close(self) -> None:
        self._browsers.shutdown()
        for each in self._clients_made:
            each.close()


def write_prepared(path: Path, prepared: list[Prepared]) -> Path:
    path.write_text("".join(f"{p.cookie}\t{p.path}\n" for p in prepared))
    return path


# -- the callback side ---------------------------------------------------------------

@dataclass
class CallbackTurn(wrk.SignInTurn):
    new_sessions: int
    cpu_seconds: dict[str, float]   # app, idp, wrk

    @property
    def cpu_ms_per_callback(self) -> dict[str, float]:
        return {name: round(used * 1000 / max(1, self.new_sessions), 2)
                for name, used in self.cpu_seconds.items()}

    def as_dict(self) -> dict:
        return {**super().as_dict(), "new_sessions": self.new_sessions,
                "cpu_seconds": {k: round(v, 2) for k, v in self.cpu_seconds.items()},
                "cpu_ms_per_callback": self.cpu_ms_per_callback}


class CallbackLoad:
    """A turn: top up the prepared callbacks, let wrk send them, wait until the server
    has served all it was sent (up to eight callbacks are queued when wrk stops), and
    account the CPU the app, the provider and wrk used meanwhile. wrk takes the file
    from the top, so what it never sent stays prepared for the next turn (while
    young enough). A turn whose prepared callbacks ran out is run again with twice as
    many. Keeps every run, warm-ups too, to square with the rows."""

    def __init__(self, app: Server, idp: Server, preparer: Preparer, script: Path,
                 database: Path, directory: Path):
        self.app, self.idp, self.preparer = app, idp, preparer
        self.script, self.database, self.directory = script, database, directory
        self.per_sec = FIRST_GUESS_PER_SEC
        self.ready: list[tuple[float, Prepared]] = []   # (prepared at, callback), oldest first
        self.all_runs: list[wrk.WrkResult] = []
        self.prepared_total = 0
        self.prepare_seconds = 0.0
        self.sessions_expected = counts(database)["user_sessions"]
        self._files = itertools.count(1)

    def _top_up(self, needed: int) -> list[Prepared]:
        young = time.monotonic() - PREPARED_MAX_AGE
        self.ready = [(at, p) for at, p in self.ready if at > young]
        missing = needed - len(self.ready)
        if missing > 0:
            started = time.perf_counter()
            self.ready += [(time.monotonic(), p) for p in self.preparer.many(missing)]
            self.prepare_seconds += time.perf_counter() - started
            self.prepared_total += missing
        return [p for _, p in self.ready]

    def __call__(self, seconds: int) -> CallbackTurn:
        for _ in range(4):
            needed = int(self.per_sec * seconds * PREPARE_MARGIN) + wrk.CONNECTIONS + 20
            batch = write_prepared(self.directory / f"callbacks-{next(self._files)}.tsv",
                                   self._top_up(needed))

            sessions_before = counts(self.database)["user_sessions"]
            cpu_before = {"app": server_cpu(self.app), "idp": server_cpu(self.idp),
                          "wrk": wrk_cpu()}
            result = wrk.run(self.app.url + CALLBACK_PATH, seconds, script=self.script,
                             timeout=WRK_TIMEOUT, script_args=[str(batch)])
            self.all_runs.append(result)
            sent = result.script_counts["sent"]
            self.ready = self.ready[sent:]  # the ones sent are used up, or may be
            self.sessions_expected += sent
            self._drain()
            cpu = {"app": server_cpu(self.app) - cpu_before["app"],
                   "idp": server_cpu(self.idp) - cpu_before["idp"],
                   "wrk": wrk_cpu() - cpu_before["wrk"]}
            batch.unlink()
            turn = CallbackTurn(result, counts(self.database)["user_sessions"] - sessions_before,
                                cpu)
            if not result.script_counts["exhausted"]:
                self.per_sec = max(self.per_sec, turn.requests_per_sec)
                return turn
            self.per_sec = 2 * max(self.per_sec, sent / seconds)
            log(f"  the {needed} prepared callbacks ran out; again with "
                f"{int(self.per_sec * seconds * PREPARE_MARGIN)}")
        raise RuntimeError("the prepared callbacks ran out four times in a row")

    def _drain(self, idle: float = 1.5) -> None:
        """Until the sessions of all callbacks sent are there, or no more come for ``idle``
        seconds (the checks after the run report the missing ones)."""
        found, changed = counts(self.database)["user_sessions"], time.monotonic()
        while found < self.sessions_expected and time.monotonic() - changed < idle:
            time.sleep(0.05)
            now = counts(self.database)["user_sessions"]
            if now != found:
                found, changed = now, time.monotonic()


def check_callback(preparer: Preparer, app_url: str, workspace: Workspace) -> None:
    """One callback as wrk sends it: 303 to the dashboard, and the new session shows it."""
    prepared = preparer.one()
    answer = httpx.get(app_url + prepared.path, headers={"Cookie": prepared.cookie}, timeout=60)
    dashboard = f"{app_url}/c/{workspace.seeded.company_id}/"
    if answer.status_code != 303 or answer.headers.get("location") != dashboard:
        raise RuntimeError(f"the callback answered {answer.status_code} "
                           f"({answer.headers.get('location', '')}), not 303 to the dashboard")
    session = answer.cookies.get(client.SESSION_COOKIE)
    if not session or f"{client.SESSION_COOKIE}={session}" == prepared.cookie:
        raise RuntimeError("the callback set no new session cookie")
    client.check_dashboard(app_url, f"/c/{workspace.seeded.company_id}/", session,
                           workspace.seeded)
    again = httpx.get(app_url + prepared.path, headers={"Cookie": prepared.cookie}, timeout=60)
    if again.status_code != 403:  # single use: the same state must not sign in twice
        raise RuntimeError(f"the same callback again answered {again.status_code}, not 403")


# -- the verifying side ---------------------------------------------------------------

def fetch_id_tokens(preparer: Preparer, idp: Server, database: Path, count: int) -> list[str]:
    """ID tokens as the fake issues them to the app: prepared attempts whose codes are
    exchanged here, with the client's secret and the verifier the app stored."""
    token_url = f"{idp.url}/{oidc_idp.TENANT_ID}/oauth2/v2.0/token"
    tokens = []
    with httpx.Client(timeout=60) as http:
        for prepared in preparer.many(count):
            code = parse_qs(urlsplit(prepared.path).query)["code"][0]
            answer = http.post(token_url, data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": preparer.callback_url,
                "code_verifier": code_verifier(database, prepared.state),
                "client_id": oidc_idp.CLIENT_ID, "client_secret": oidc_idp.CLIENT_SECRET})
            answer.raise_for_status()
            tokens.append(answer.json()["id_token"])
    return tokens


def public_key_of(idp: Server, id_token: str) -> dict:
    """The JWK from the provider's key set that signed ``id_token``, checked as the app
    checks it (``mypages.sso.oidc.verify_signature``: algorithm, key id, signature)."""
    from mypages.sso import oidc

    jwks_uri = f"{idp.url}/{oidc_idp.TENANT_ID}/discovery/v2.0/keys"
    part = id_token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if header.get("alg") != "RS256":
        raise RuntimeError(f"the provider signs with {header.get('alg')}, not RS256")
    claims = oidc.verify_signature(id_token, jwks_uri)
    if (claims.get("tid"), claims.get("oid")) != (oidc_idp.TENANT_ID, oidc_idp.OBJECT_ID):
        raise RuntimeError(f"an ID token of someone else: {claims}")
    [key] = [key for key in httpx.get(jwks_uri, timeout=30).json()["keys"]
             if key.get("kid") == header["kid"]]
    return key


_start_together = None  # in each verifying process: the barrier all of them meet at
_key = None             # and the provider's public key, imported once


def _join(barrier, jwk: dict) -> None:
    global _start_together, _key
    from joserfc.jwk import RSAKey

    _start_together, _key = barrier, RSAKey.import_key(jwk)


def _ready() -> None:
    _start_together.wait(timeout=120)


def _verify_for(tokens: list[str], seconds: float) -> list[float]:
    """Verify the tokens round and round for ``seconds``, starting with the other
    processes; like wrk, count only what finished in time. Each verify's duration (ms)."""
    from joserfc import jwt

    _start_together.wait(timeout=120)
    end = time.monotonic() + seconds
    durations = []
    for token in itertools.cycle(tokens):
        started = time.perf_counter()
        jwt.decode(token, _key, algorithms=["RS256"])
        finished = time.perf_counter()
        if time.monotonic() > end:
            return durations
        durations.append((finished - started) * 1000)


class TokenVerify:
    """``WORKERS`` processes verifying side by side; a turn: ``id_token_verify(seconds)``."""

    def __init__(self, tokens: list[str], jwk: dict, processes: int = WORKERS):
        self.tokens, self.processes = tokens, processes
        context = multiprocessing.get_context("spawn")
        self.pool = context.Pool(processes, initializer=_join,
                                 initargs=(context.Barrier(processes), jwk))
        self.pool.starmap(_ready, [()] * processes, chunksize=1)

    def __call__(self, seconds: int) -> VerifyTurn:
        done = self.pool.starmap(_verify_for, [(self.tokens, seconds)] * self.processes,
                                 chunksize=1)
        return VerifyTurn(seconds, [len(durations) for durations in done],
                          [d for durations in done for d in durations])

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


# -- checks -----------------------------------------------------------------------------

def check_rows(load: CallbackLoad, before: dict, after: dict, idp_hits: dict) -> dict:
    """Every answer wrk saw is a completed sign-in; every callback it sent left its
    session, its audit event and its used attempt; none was refused; while measuring
    the app asked the provider's discovery and keys at most once per worker (cached),
    its token and userinfo endpoints once per sign-in."""
    runs = load.all_runs
    requests = sum(r.requests for r in runs)
    fillers = sum(r.script_counts["exhausted"] for r in runs)  # /login, sent on running out
    found = {
        "wrk_runs": len(runs), "wrk_requests": requests,
        "prepared": load.prepared_total,
        "prepare_seconds": round(load.prepare_seconds, 1),
        "sign_ins_303": sum(r.script_counts["sign_ins"] for r in runs),
        "sent": sum(r.script_counts["sent"] for r in runs),
        "ran_out": fillers,
        "non_2xx_3xx": sum(r.non_2xx_3xx for r in runs),
        "socket_errors": sum(r.socket_errors for r in runs),
        **{f"new_{name}": after[name] - before[name] for name in after},
        "idp_hits": idp_hits,
    }
    problems = []
    if found["non_2xx_3xx"]:
        problems.append(f"{found['non_2xx_3xx']} non-2xx/3xx responses")
    if found["socket_errors"]:
        problems.append(f"{found['socket_errors']} socket errors")
    if not requests - fillers <= found["sign_ins_303"] <= requests:
        problems.append(f"{requests - found['sign_ins_303']} of {requests} responses "
                        "were no sign-in")
    if not found["sign_ins_303"] <= found["new_user_sessions"] <= found["sent"]:
        problems.append(f"{found['new_user_sessions']} new sessions for "
                        f"{found['sign_ins_303']} answered and {found['sent']} sent callbacks")
    for name in ("signed_in_audit_events", "used_attempts"):
        if found[f"new_{name}"] != found["new_user_sessions"]:
            problems.append(f"{found[f'new_{name}']} {name.replace('_', ' ')} for "
                            f"{found['new_user_sessions']} new sessions")
    if found["new_rejected_audit_events"]:
        problems.append(f"{found['new_rejected_audit_events']} refused callbacks")
    asked = {name: idp_hits["after"].get(name, 0) - idp_hits["before"].get(name, 0)
             for name in ("discovery", "jwks", "token", "userinfo")}
    found["idp_asked_while_measuring"] = asked
    if asked["discovery"] > WORKERS or asked["jwks"] > WORKERS:
        problems.append(f"while measuring, the app asked the provider's discovery "
                        f"{asked['discovery']} and keys {asked['jwks']} times: more than "
                        "once per worker")
    if not asked["token"] == asked["userinfo"] == found["new_user_sessions"]:
        problems.append(f"while measuring, the provider issued {asked['token']} tokens and "
                        f"answered userinfo {asked['userinfo']} times for "
                        f"{found['new_user_sessions']} sign-ins")
    return {**found, "problems": problems, "passed": not problems}


def idp_asked(idp: Server) -> dict[str, int]:
    return httpx.get(idp.url + oidc_idp.HITS_PATH, timeout=30).json()


# -- the benchmark -----------------------------------------------------------------------

def run(workspace: Workspace) -> dict:
    """Serve, seed, check, measure and report; returns the section for the results file."""
    seconds = env_int("BENCH_SSO_SECONDS", 20)
    rounds = env_int("BENCH_ROUNDS", 5)
    warmup = env_int("BENCH_WARMUP", 2)
    seeded = workspace.seeded

    # both addresses are known before either server starts: the app's redirect URI is
    # registered at the provider, the provider's address is in the connection
    app_port, idp_port = free_port(), free_port()
    app_url, idp_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{idp_port}"
    database = workspace.directory / "sso.sqlite"
    seed.copy_database(workspace.small_db, database)
    ini = write_ini(workspace.directory, "sso", database, app_url)
    seed_sso(ini, seeded.company_id, seeded.email, idp_url)

    idp = workspace.server(
        "sso_idp", [f"bench.apps.oidc_idp:make_app({idp_url!r}, "
                    f"{app_url + CALLBACK_PATH!r}, {seeded.email!r})"],
        oidc_idp.HITS_PATH, port=idp_port, workers=1, threads=IDP_THREADS)
    app = workspace.server("sso", ["--paste", str(ini)], "/login", port=app_port)
    verify = preparer = None
    try:
        log(f"starting the fake Entra ID (gunicorn, 1 process, {IDP_THREADS} threads), "
            f"the app (gunicorn, {WORKERS} sync workers) and {WORKERS} verifying processes")
        idp.start()
        app.start()
        preparer = Preparer(app_url, idp, seeded.email)
        check_callback(preparer, app_url, workspace)
        tokens = fetch_id_tokens(preparer, idp, database, TOKENS)
        jwk = public_key_of(idp, tokens[0])
        verify = TokenVerify(tokens, jwk)

        script = workspace.directory / "sso.lua"
        script.write_text(LUA_SCRIPT.format(
            dashboard=lua_string(f"{app_url}/c/{seeded.company_id}/")))
        callbacks = CallbackLoad(app, idp, preparer, script, database, workspace.directory)
        log(f"measuring: {seconds} s each in {rounds} rounds, {warmup} s warm-up before the "
            f"first round (wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS}, GET {CALLBACK_PATH}, "
            f"callbacks prepared before every turn)")
        before = counts(database)
        idp_hits = {"before": idp_asked(idp)}
        runs = measure({"sso_callback": callbacks, "id_token_verify": verify}, seconds, rounds,
                       warmup)
        after = counts(database)
        idp_hits["after"] = idp_asked(idp)
        check_callback(preparer, app_url, workspace)  # still signing in after the load
    finally:
        if verify is not None:
            verify.close()
        if preparer is not None:
            preparer.close()
        app.stop()
        idp.stop()

    checks = check_rows(callbacks, before, after, idp_hits)
    summary = summarize(runs)
    ratio_rows = ratios(summary, TARGETS)
    cpu = cpu_per_callback(runs["sso_callback"])
    print_report(summary, ratio_rows, unit="per s")
    verifies_per_callback = 1 / ratio_rows[0]["value"]
    log(f"(sso_callback: 303s to the dashboard per second, latency as wrk saw it with "
        f"{wrk.CONNECTIONS} connections on {WORKERS} workers;\n id_token_verify: RS256 "
        f"verifies per second summed over {WORKERS} processes, latency of one verify)")
    log(f"\none callback costs the time of {verifies_per_callback:,.0f} bare verifies "
        "(the inverse of the ratio)")
    log(f"CPU per callback (median over the rounds): app {cpu['app']:.1f} ms, "
        f"provider {cpu['idp']:.1f} ms, wrk {cpu['wrk']:.2f} ms; the provider alone could "
        f"serve {1000 / cpu['idp']:,.0f} callbacks/s on its one process "
        f"(it ran {cpu['idp_core_share']:.0%} of a core)")
    log(f"\nchecks: {checks['prepared']} callbacks prepared in {checks['prepare_seconds']} s, "
        f"{checks['sent']} sent in {checks['wrk_runs']} wrk runs, {checks['wrk_requests']} "
        f"answered, {checks['sign_ins_303']} of them 303 to the dashboard; "
        f"{checks['new_user_sessions']} new sessions, {checks['new_signed_in_audit_events']} "
        f"sign-in audit events, {checks['new_used_attempts']} attempts used, "
        f"{checks['new_rejected_audit_events']} refused; the provider was asked "
        f"{checks['idp_asked_while_measuring']}: "
        + ("ok" if checks["passed"] else "FAILED: " + "; ".join(checks["problems"])))
    return {
        "settings": {"seconds": seconds, "rounds": rounds, "warmup_seconds": warmup,
                     "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency "
                            f"--timeout {WRK_TIMEOUT}s, GET {CALLBACK_PATH} (prepared, one each)",
                     "gunicorn": f"--workers {WORKERS} --worker-class sync",
                     "identity_provider": f"mypages_devtools.fakes.oidc_provider (pyop), Entra ID "
                                          f"style, gunicorn --workers 1 --threads {IDP_THREADS}",
                     "verify": f"joserfc jwt.decode RS256, key imported once, "
                               f"{WORKERS} processes, {TOKENS} ID tokens of this run"},
        "results": summary,
        "ratios": ratio_rows,
        "verifies_per_callback": round(verifies_per_callback, 1),
        "cpu_ms_per_callback": cpu,
        "checks": checks,
        "passed": checks["passed"],
    }


def cpu_per_callback(turns: list[CallbackTurn]) -> dict:
    import statistics

    found = {name: round(statistics.median(t.cpu_ms_per_callback[name] for t in turns), 2)
             for name in ("app", "idp", "wrk")}
    found["idp_core_share"] = round(statistics.median(
        t.cpu_seconds["idp"] / t.seconds for t in turns), 3)
    return found
