"""Data factories for tests: companies, users and memberships in one call."""
from __future__ import annotations

import datetime as dt
import itertools
import secrets
from functools import lru_cache

from mypages.accounts.models import User
from mypages.accounts.passwords import Argon2Cost, Passwords
from mypages.api.models import ApiToken
from mypages.api.tokens import hash_secret
from mypages.companies.models import Company, Membership, Role
from mypages.policy.models import CompanyPolicy

DEFAULT_PASSWORD = "correct horse battery staple"
#: the argon2 cost of the test settings and of the factories' hashes: cheap, so the
#: hundreds of sign-ins of a test run don't spend most of its time hashing (production's
#: cost is a setting with a strong default, see mypages.accounts.passwords)
TEST_ARGON2_COST = Argon2Cost(memory_cost=1024, time_cost=1, parallelism=1)
TEST_PASSWORDS = Passwords(TEST_ARGON2_COST)
#: the settings that give an app the test cost
TEST_ARGON2_SETTINGS = {
    "mypages.passwords.argon2_memory_cost": str(TEST_ARGON2_COST.memory_cost),
    "mypages.passwords.argon2_time_cost": str(TEST_ARGON2_COST.time_cost),
    "mypages.passwords.argon2_parallelism": str(TEST_ARGON2_COST.parallelism),
}
_numbers = itertools.count(1)


def testing_settings(database_url: str, blob_directory: str) -> dict:
    """The settings of an application under test (the ``mypages_settings`` fixture's, and
    ``mypages plugin check``'s): every installed plugin, no in-process worker, no https-only
    cookie, outbound requests to loopback allowed (the fakes listen there), cheap hashing."""
    return {
        "sqlalchemy.url": database_url,
        "mypages.environment": "test",
        "mypages.secret": "test-secret-" + "x" * 40,
        "mypages.dev_features": "false",
        "mypages.session.secure": "false",
        "mypages.jobs.in_process": "false",
        "mypages.plugins.allow": "*",
        "mypages.plugins.deny": "",
        # the fake identity providers listen on loopback, over plain http
        "mypages.outbound.allow_private": "true",
        **TEST_ARGON2_SETTINGS,  # cheap hashing; production's default is checked on its own
        "mypages.storage.directory": blob_directory,
    }


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    return TEST_PASSWORDS.hash(password)


def make_company(dbsession, name: str | None = None, **kw) -> Company:
    company = Company(name=name or f"Company {next(_numbers)} AB", **kw)
    dbsession.add(company)
    dbsession.flush()
    return company


def make_user(dbsession, email: str | None = None, *, password: str = DEFAULT_PASSWORD,
              company: Company | None = None, role: Role | str = Role.member, **kw) -> User:
    user = User(email=(email or f"user{next(_numbers)}@example.se").lower(),
                password_hash=_hash(password), **kw)
    dbsession.add(user)
    dbsession.flush()
    if company is not None:
        make_membership(dbsession, user, company, role)
    return user


def make_membership(dbsession, user: User, company: Company,
                    role: Role | str = Role.member) -> Membership:
    membership = Membership(company_id=company.id, user_id=user.id, role=Role(role))
    dbsession.add(membership)
    dbsession.flush()
    return membership


def make_policy(dbsession, company: Company, **values) -> CompanyPolicy:
    """The company's sign-in policy with ``values`` changed (the platform's defaults for the
    rest), written as it is: none of the checks of the Security page run."""
    policy = dbsession.get(CompanyPolicy, company.id) or CompanyPolicy(company_id=company.id)
    for name, value in values.items():
        if not hasattr(CompanyPolicy, name):
            raise TypeError(f"a company policy has no {name!r}")
        setattr(policy, name, value)
    dbsession.add(policy)
    dbsession.flush()
    return policy


def make_api_token(dbsession, company: Company, scopes, *, created_by: User | None = None,
                   name: str = "test token", expires_at: dt.datetime | None = None,
                   revoked_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """An API token of ``company`` (as if its admin ``created_by`` made it): (the row, the
    token to send as ``Authorization: Bearer ...``)."""
    secret = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.timezone.utc)
    row = ApiToken(company_id=company.id, name=name, scopes=sorted(scopes),
                   secret_hash=hash_secret(secret), created_at=now,
                   created_by_id=created_by.id if created_by is not None else None,
                   expires_at=expires_at or now + dt.timedelta(days=30), revoked_at=revoked_at)
    dbsession.add(row)
    dbsession.flush()
    return row, f"mp_{row.id}_{secret}"
