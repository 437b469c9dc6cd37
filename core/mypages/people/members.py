"""A company's people: members, roles, invitations, and its admins. The last admin
always stays."""
from __future__ import annotations

from sqlalchemy import func, select, update

from mypages.accounts.models import TotpCredential, User
from mypages.companies.models import Company, Invitation, Membership, Role
from mypages.contract import UserInfo
from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.services import session_store
from mypages.work import Work


class PeopleError(Refusal):
    """A refused change to a company's people."""


def members(dbsession, company_id: int):
    return dbsession.execute(
        select(Membership, User, TotpCredential.confirmed_at)
        .join(User, User.id == Membership.user_id)
        .outerjoin(TotpCredential, TotpCredential.user_id == User.id)
        .where(Membership.company_id == company_id).order_by(User.email)).all()


def _membership(dbsession, company_id: int, user_id: int, lock: bool = False) -> Membership:
    query = select(Membership).where(Membership.company_id == company_id,
                                     Membership.user_id == user_id)
    if lock:
        query = query.with_for_update()
    membership = dbsession.scalars(query).one_or_none()
    if membership is None:
        raise PeopleError(_("That person is not a member of this company."))
    return membership


def _lock_admins(dbsession, company_id: int) -> int:
    """Serialise changes to the company's admins, then count them.

    A no-op write on the company row holds its row lock on PostgreSQL and the
    write lock on SQLite (which ignores FOR UPDATE) until commit, so two admins
    demoting each other at once cannot both see two admins.
    """
    dbsession.execute(update(Company).where(Company.id == company_id)
                      .values(name=Company.name).execution_options(synchronize_session=False))
    admins = dbsession.scalars(select(Membership.id).where(
        Membership.company_id == company_id, Membership.role == Role.admin).with_for_update()).all()
    return len(admins)


def _own_session(work: Work, user_id: int) -> str | None:
    """The session to keep when people change themselves: the one they are using."""
    return work.actor.session_id if user_id == work.actor.user_id else None


def change_role(work: Work, company, user_id: int, role: str) -> Membership:
    try:
        new_role = Role(role)
    except ValueError:
        raise PeopleError(_("Unknown role."))
    admins = _lock_admins(work.dbsession, company.id)
    membership = _membership(work.dbsession, company.id, user_id)
    if membership.role == new_role:
        return membership
    if membership.role == Role.admin and admins <= 1:
        raise PeopleError(_("The last admin of a company cannot be made a member. "
                            "Make someone else admin first."))
    old = membership.role
    membership.role = new_role
    # a change of privilege: that person's sessions start again (ASVS 7.2.4)
    session_store(work.registry).end_all(work.dbsession, user_id,
                                         keep=_own_session(work, user_id))
    work.audit("people.role_changed", company=company, target=str(user_id),
               old_role=old.value, new_role=new_role.value)
    return membership


def remove(work: Work, company, user_id: int) -> None:
    admins = _lock_admins(work.dbsession, company.id)
    membership = _membership(work.dbsession, company.id, user_id, lock=True)
    if membership.role == Role.admin and admins <= 1:
        raise PeopleError(_("The last admin of a company cannot be removed."))
    work.dbsession.delete(membership)
    ended = session_store(work.registry).end_all(work.dbsession, user_id)
    work.audit("people.removed", company=company, target=str(user_id), sessions_ended=ended)


def end_sessions(work: Work, company, user_id: int) -> int:
    _membership(work.dbsession, company.id, user_id)
    ended = session_store(work.registry).end_all(work.dbsession, user_id,
                                                 keep=_own_session(work, user_id))
    work.audit("people.sessions_ended", company=company, target=str(user_id),
               sessions_ended=ended)
    return ended


def invite(work: Work, company, email: str, role: str) -> Invitation:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or " " in email:
        raise PeopleError(_("Type a valid e-mail address."))
    try:
        role = Role(role)
    except ValueError:
        raise PeopleError(_("Unknown role."))
    already = work.dbsession.scalar(
        select(func.count()).select_from(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.company_id == company.id, User.email == email))
    if already:
        raise PeopleError(_("${email} is already a member.", mapping={"email": email}))
    invitation = Invitation(company_id=company.id, email=email, role=role,
                            invited_by_id=work.actor.user_id, created_at=work.now())
    work.dbsession.add(invitation)
    work.dbsession.flush()
    work.enqueue("companies.invitation_mail", {"invitation_id": invitation.id})
    work.audit("people.invited", company=company, target=email, role=role.value)
    return invitation


def admins_of(dbsession, company_id: int) -> list[User]:
    """The admins whose membership is in use (not disabled for going unused)."""
    return dbsession.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.company_id == company_id, Membership.role == Role.admin,
        Membership.disabled_at.is_(None)).order_by(User.id)).all()


def company_members(dbsession, company_id: int, *, active_only: bool = True) -> list[UserInfo]:
    """The people of a company (admins too), as :class:`~mypages.contract.UserInfo` records,
    by e-mail address; those whose account is disabled are left out unless ``active_only``
    is false."""
    users = dbsession.scalars(select(User).join(Membership, Membership.user_id == User.id)
                              .where(Membership.company_id == company_id)
                              .order_by(User.email))
    return [UserInfo.of(user) for user in users if user.is_active or not active_only]


def company_admins(dbsession, company_id: int, *, active_only: bool = True) -> list[UserInfo]:
    """The admins of a company, as :class:`~mypages.contract.UserInfo` records, by id; those
    whose account is disabled are left out unless ``active_only`` is false."""
    return [UserInfo.of(user) for user in admins_of(dbsession, company_id)
            if user.is_active or not active_only]
