"""The benchmark's databases: a small one (one company, five active modules) and a
large copy of it with 100,000 more companies and 1,000,000 module activations."""
from __future__ import annotations

import datetime as dt
import random
import secrets
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from mypages.accounts.models import User
from mypages.accounts.passwords import Passwords
from mypages.api.models import ApiToken
from mypages.api.tokens import hash_secret
from mypages.companies.models import Company, Membership, Role
from mypages.db import engine_from_url, utcnow
from mypages.modules.models import ModuleActivation, ModuleState

SECRET = "bench-secret-not-for-production-" + "x" * 24
EMAIL = "bench-admin@example.se"
PASSWORD = "bench password that is long enough"
COMPANY_NAME = "Bench Company AB"

#: module keys of the other companies' activations, beside the dashboard company's five
OTHER_KEYS = ("sso", "bankid", "rates", "ocr", "notes", "archive", "signing", "payroll", "hr",
              "crm", "inventory", "tickets", "assets", "travel", "expenses")
NOISE_STATES = ("trial", "active", "expired", "inactive")

# How SQLAlchemy stores a DateTime on SQLite; rows inserted by hand must compare the same way.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"

INI_TEMPLATE = """\
[app:main]
use = egg:mypages
mypages.environment = test
mypages.secret = {secret}
mypages.dev_features = false
mypages.session.secure = false
mypages.jobs.in_process = false
mypages.plugins.allow = *
mypages.plugins.deny =
sqlalchemy.url = sqlite:///{database}
pyramid.reload_templates = false
pyramid.default_locale_name = sv
# the API's limits are counted as always (a write per limit and request), never reached
mypages.api.rate_limit_per_token = 100000000/minute
mypages.api.rate_limit_per_address = 100000000/minute
"""


@dataclass(frozen=True)
class Seeded:
    company_id: int
    email: str
    password: str
    module_keys: tuple[str, ...]
    api_token: str = ""


def write_ini(directory: Path, name: str, database: Path) -> Path:
    ini = directory / f"{name}.ini"
    ini.write_text(INI_TEMPLATE.format(secret=SECRET, database=database))
    return ini


def migrate(mypages_command: Path, ini: Path, env: dict) -> None:
    """The operator's way: ``mypages -c <ini> db upgrade``."""
    subprocess.run([str(mypages_command), "-c", str(ini), "db", "upgrade"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def seed_small(database: Path, module_keys: tuple[str, ...]) -> Seeded:
    """One company, its admin and five active modules: what the dashboard shows; and an API
    token of the company's that reads its modules, as its admin would make one."""
    engine = engine_from_url(f"sqlite:///{database}")
    now = utcnow()
    with Session(engine) as session, session.begin():
        company = Company(name=COMPANY_NAME, org_number="556000-0001")
        user = User(email=EMAIL, display_name="Bench Admin",
                    password_hash=Passwords().hash(PASSWORD))  # the default cost, production's
        session.add_all([company, user])
        session.flush()
        session.add(Membership(company_id=company.id, user_id=user.id, role=Role.admin))
        session.add_all(ModuleActivation(company_id=company.id, module_key=key,
                                         state=ModuleState.active, purchased_at=now,
                                         updated_at=now)
                        for key in module_keys)
        secret = secrets.token_urlsafe(32)
        token = ApiToken(company_id=company.id, name="bench", scopes=["modules:read"],
                         secret_hash=hash_secret(secret), created_by_id=user.id,
                         expires_at=now + dt.timedelta(days=30))
        session.add(token)
        session.flush()
        company_id, api_token = company.id, f"mp_{token.id}_{secret}"
    engine.dispose()
    return Seeded(company_id, EMAIL, PASSWORD, tuple(module_keys), api_token)


def copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _activation_rows(key_pool: tuple[str, ...], first_company: int, companies: int,
                     per_company: int, now: dt.datetime, rng: random.Random):
    """``per_company`` distinct keys per company, in every state, trials both running and ended."""
    fmt = SQLITE_DATETIME
    now_s = now.strftime(fmt)
    for offset in range(companies):
        company_id = first_company + offset
        start = rng.randrange(len(key_pool))
        for j in range(per_company):
            key = key_pool[(start + j) % len(key_pool)]
            state = NOISE_STATES[rng.randrange(4)]
            started = now - dt.timedelta(days=rng.randrange(1, 400))
            ends = started + dt.timedelta(days=10)
            trial_started = trial_ends = purchased = None
            if state in ("trial", "expired", "inactive"):
                trial_started, trial_ends = started.strftime(fmt), ends.strftime(fmt)
            if state == "trial":  # most running, some past their end but not yet expired
                ends = now + dt.timedelta(hours=rng.randrange(-48, 240))
                trial_ends = ends.strftime(fmt)
            if state == "active":
                purchased = started.strftime(fmt)
            yield (company_id, key, state, trial_started, trial_ends, purchased, now_s)


def _batches(rows, size: int):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed_large(database: Path, module_keys: tuple[str, ...], companies: int, per_company: int,
               batch_size: int = 50_000) -> dict:
    """Bulk-insert ``companies`` companies, one admin user each, and their activations.

    Plain executemany in one transaction; durability is switched off only
    while seeding, and the file is put back into WAL mode afterwards.
    """
    key_pool = tuple(module_keys) + OTHER_KEYS
    if per_company > len(key_pool):
        raise ValueError(f"at most {len(key_pool)} activations per company (one per module key)")
    started = time.perf_counter()
    rng = random.Random(20261122)
    now = utcnow().replace(tzinfo=None)
    now_s = now.strftime(SQLITE_DATETIME)
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB
        connection.execute("PRAGMA temp_store=MEMORY")
        password_hash = connection.execute("SELECT password_hash FROM users WHERE email = ?",
                                           (EMAIL,)).fetchone()[0]
        first_company = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM companies").fetchone()[0]
        first_user = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()[0]
        company_ids = range(first_company, first_company + companies)
        connection.execute("BEGIN")
        for batch in _batches(((cid, f"Company {cid} AB", f"BENCH-{cid:08d}", now_s)
                               for cid in company_ids), batch_size):
            connection.executemany("INSERT INTO companies (id, name, org_number, created_at) "
                                   "VALUES (?, ?, ?, ?)", batch)
        for batch in _batches(((first_user + n, f"user{first_user + n}@bench.example.se",
                                f"User {first_user + n}", password_hash, 0, 1, now_s)
                               for n in range(companies)), batch_size):
            connection.executemany("INSERT INTO users (id, email, display_name, password_hash, "
                                   "is_operator, is_active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   batch)
        for batch in _batches(((cid, first_user + n, "admin", now_s)
                               for n, cid in enumerate(company_ids)), batch_size):
            connection.executemany("INSERT INTO memberships (company_id, user_id, role, created_at) "
                                   "VALUES (?, ?, ?, ?)", batch)
        for batch in _batches(_activation_rows(key_pool, first_company, companies, per_company, now,
                                               rng),
                              batch_size):
            connection.executemany(
                "INSERT INTO module_activations (company_id, module_key, state, trial_started_at, "
                "trial_ends_at, purchased_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode=WAL")
        counts = {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                  for table in ("companies", "users", "memberships", "module_activations")}
    finally:
        connection.close()
    return {"seconds": round(time.perf_counter() - started, 1), "rows": counts,
            "database_mib": round(database.stat().st_size / 2**20, 1)}


def check_entitlements(database: Path, company_ids: list[int]) -> None:
    """The core must read the hand-inserted rows as meant (same datetime format, same states)."""
    from mypages.modules.lifecycle import entitled_keys

    now = utcnow()
    now_s = now.replace(tzinfo=None).strftime(SQLITE_DATETIME)
    engine = engine_from_url(f"sqlite:///{database}")
    with sqlite3.connect(database) as raw, Session(engine) as session:
        for company_id in company_ids:
            expected = frozenset(key for key, state, ends in raw.execute(
                "SELECT module_key, state, trial_ends_at FROM module_activations "
                "WHERE company_id = ?", (company_id,))
                if state == "active" or (state == "trial" and ends > now_s))
            found = entitled_keys(session, company_id, now)
            if found != expected:
                raise RuntimeError(f"company {company_id}: the core sees {sorted(found)}, "
                                   f"the seed meant {sorted(expected)}")
    raw.close()
    engine.dispose()
