"""Data factories for tests: companies, users and memberships in one call."""
from __future__ import annotations

import itertools
from functools import lru_cache

from mypages.accounts.models import User
from mypages.accounts.passwords import hash_password
from mypages.companies.models import Company, Membership, Role

DEFAULT_PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    return hash_password(password)  # hashed once per password: argon2 is slow on purpose


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
        dbsession.add(Membership(company_id=company.id, user_id=user.id, role=Role(role)))
        dbsession.flush()
    return user
