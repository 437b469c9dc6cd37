"""Who has which personal number: linking, pre-registration by a company admin, look-up.

A personal number belongs to one user at most (the blind index is unique). A user links their
own by completing a BankID identification; a company admin may enter a member's number, which
counts only once that member has signed in with BankID under it (``confirmed_at``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from mypages.toolkit import blind_index_lookup

from mypages_bankid.models import Identity


class LinkedElsewhere(Exception):
    """The personal number is another user's."""


def identity_of(dbsession, user_id: int) -> Identity | None:
    return dbsession.get(Identity, user_id)


def find(dbsession, registry, number: str) -> Identity | None:
    return dbsession.scalars(select(Identity).where(
        blind_index_lookup(registry, Identity.personal_number_index, number))).one_or_none()


def has_bankid(dbsession, user_id: int) -> bool:
    """Set up: a number the user has proven with BankID (the LoginMethod's ``is_set_up``)."""
    return dbsession.scalar(select(Identity.user_id).where(
        Identity.user_id == user_id, Identity.confirmed_at.is_not(None))) is not None


def with_bankid(dbsession, user_ids: Sequence[int]) -> set[int]:
    return set(dbsession.scalars(select(Identity.user_id).where(
        Identity.user_id.in_(list(user_ids)), Identity.confirmed_at.is_not(None))))


def link(dbsession, registry, user_id: int, number: str, now: dt.datetime, *,
         confirmed: bool, company_id: int | None = None) -> Identity:
    """Give ``user_id`` the personal number ``number`` (validated), replacing theirs;
    :class:`LinkedElsewhere` if it is someone else's."""
    owner = find(dbsession, registry, number)
    if owner is not None and owner.user_id != user_id:
        raise LinkedElsewhere()
    identity = owner or identity_of(dbsession, user_id)
    if identity is None:
        identity = Identity(user_id=user_id, personal_number=number, created_at=now)
        dbsession.add(identity)
    elif identity.personal_number != number:
        identity.personal_number = number
        identity.confirmed_at = None
    if confirmed:
        identity.confirmed_at = identity.confirmed_at or now
    else:
        identity.registered_by_company_id = company_id
    dbsession.flush()
    return identity


def unlink(dbsession, user_id: int) -> bool:
    identity = identity_of(dbsession, user_id)
    if identity is None:
        return False
    dbsession.delete(identity)
    dbsession.flush()
    return True
