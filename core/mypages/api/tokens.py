"""Company API tokens: made by a company admin (or an operator at the command line) with a
name, scopes and an expiry; listed; revoked at once.

A token is ``mp_<id>_<secret>``. The id finds the row; the secret is compared with the
stored SHA-256 of it in constant time. SHA-256 (not a slow password hash) is right here:
the secret is 256 random bits, so there is nothing to guess from a stolen digest, and
checking must stay cheap since every API request does it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update

from mypages.accounts import USER_GROUP
from mypages.accounts.models import User
from mypages.api.models import ApiToken
from mypages.companies import COMPANY_COLUMNS, COMPANY_GROUP
from mypages.companies.models import Company
from mypages.contract import CompanyInfo, UserInfo
from mypages.db import PreparedRead, committed_on_its_own, read_first
from mypages.i18n import _
from mypages.modules.lifecycle import entitled_column, entitled_from_mapping
from mypages.refusals import Refusal
from mypages.work import Work

TOKEN_PATTERN = re.compile(r"^mp_([1-9][0-9]{0,9})_([A-Za-z0-9_-]{43})$")
NAME_MAX = 100
#: the longest a token may be valid
MAX_DAYS = 366
#: last use is written at most this often, so using a token does not write on every request
TOUCH_EVERY = dt.timedelta(minutes=1)


class TokenError(Refusal):
    """A refused change to a company's API tokens."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """The token a request of the API came with, as read when it began."""

    id: int
    company_id: int
    name: str
    scopes: frozenset[str]
    created_by: UserInfo | None
    expires_at: dt.datetime
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Authenticated:
    """A token found good, with its company and the modules the company is entitled to."""

    token: TokenInfo
    company: CompanyInfo
    entitled_modules: frozenset[str]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(value: str | None) -> tuple[int, str] | None:
    """(id, secret) of a well-formed token, else None."""
    found = TOKEN_PATTERN.match(value or "")
    if found is None:
        return None
    return int(found.group(1)), found.group(2)


#: the token, its company, its creator and the company's entitled modules, in one SELECT
#: that every API request runs
TOKEN_QUERY = PreparedRead(
    select(*(column.label(f"token_{column.key}") for column in (
               ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.secret_hash,
               ApiToken.expires_at, ApiToken.last_used_at, ApiToken.revoked_at)),
           *COMPANY_COLUMNS, *USER_GROUP.columns(User.__table__),
           entitled_column(ApiToken.company_id, bindparam("now")))
    .join_from(ApiToken, Company, Company.id == ApiToken.company_id)
    .outerjoin(User, User.id == ApiToken.created_by_id)
    .where(ApiToken.id == bindparam("token_id"))
)


def authenticate(request, value: str | None, now: dt.datetime) -> Authenticated | None:
    """The token ``value`` names, if it is well formed, known, its secret right, not revoked
    and not expired; else None (the caller says no more than that)."""
    parsed = parse(value)
    if parsed is None:
        return None
    token_id, secret = parsed
    row = read_first(request, TOKEN_QUERY, {"token_id": token_id, "now": now})
    # compared even when there is no row, so the answer takes as long either way
    stored = row.token_secret_hash if row is not None else "0" * 64
    if not hmac.compare_digest(stored, hash_secret(secret)) or row is None:
        return None
    if row.token_revoked_at is not None or row.token_expires_at <= now:
        return None
    mapping = row._mapping
    company = COMPANY_GROUP.from_mapping(mapping)
    token = TokenInfo(row.token_id, company.id, row.token_name,
                      frozenset(row.token_scopes or ()), USER_GROUP.from_mapping(mapping),
                      row.token_expires_at, row.token_last_used_at)
    return Authenticated(token, company, entitled_from_mapping(mapping))


def note_use(registry, token: TokenInfo, now: dt.datetime) -> None:
    """Note when the token was last used, at most once every :data:`TOUCH_EVERY`, in a
    transaction of its own (call before the request writes)."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    with committed_on_its_own(registry) as own:
        own.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                    .execution_options(synchronize_session=False))


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise TokenError(_("Give the token a name of 1 to ${max} characters.",
                           mapping={"max": NAME_MAX}))
    return name


def check_scopes(scopes, known) -> list[str]:
    chosen = sorted(set(scopes))
    if not chosen:
        raise TokenError(_("Choose at least one scope."))
    unknown = [scope for scope in chosen if scope not in known]
    if unknown:
        raise TokenError(_("There is no scope called \"${scope}\".",
                           mapping={"scope": unknown[0][:64]}))
    return chosen


def check_expiry(expires_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    if expires_at <= now or expires_at > now + dt.timedelta(days=MAX_DAYS):
        raise TokenError(_("The expiry must be a day from tomorrow to ${days} days from today.",
                           mapping={"days": MAX_DAYS}))
    return expires_at


def create(work: Work, company: CompanyInfo, *, name: str, scopes, expires_at: dt.datetime,
           known_scopes) -> tuple[ApiToken, str]:
    """A new token of ``company`` made by ``work``'s actor: (the row, the token to show
    once). Only the secret's digest is stored; the audit event names the token, not it."""
    now = work.now()
    row = ApiToken(company_id=company.id, name=check_name(name),
                   scopes=check_scopes(scopes, known_scopes),
                   expires_at=check_expiry(expires_at, now), created_at=now,
                   created_by_id=work.actor.user_id, secret_hash="")
    secret = secrets.token_urlsafe(32)
    row.secret_hash = hash_secret(secret)
    work.dbsession.add(row)
    work.dbsession.flush()
    work.audit("api_token.created", company=company, target=row.name, api_token=row.id,
               scopes=row.scopes, expires_at=row.expires_at.isoformat())
    return row, f"mp_{row.id}_{secret}"


def tokens_of(dbsession, company_id: int) -> list[tuple[ApiToken, User | None]]:
    """The company's tokens, newest first, with their creators."""
    return list(dbsession.execute(
        select(ApiToken, User).outerjoin(User, User.id == ApiToken.created_by_id)
        .where(ApiToken.company_id == company_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all())


def revoke(work: Work, company: CompanyInfo, token_id: int) -> ApiToken:
    """Revoke the company's token ``token_id``: it stops working at once."""
    row = work.dbsession.scalars(select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.company_id == company.id)).one_or_none()
    if row is None:
        raise TokenError(_("There is no such token."), status=404)
    if row.revoked_at is not None:
        raise TokenError(_("This token has already been revoked."))
    row.revoked_at = work.now()
    row.revoked_by_id = work.actor.user_id
    work.audit("api_token.revoked", company=company, target=row.name, api_token=row.id)
    return row
