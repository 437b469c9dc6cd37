"""BankID in a company's data export and erasure.

The export says which of the company's people have BankID set up, and holds the personal
numbers the company's admins entered. An erasure deletes the numbers and orders of the
people erased with the company (and what they signed), and the numbers the company entered that their owners
never confirmed (a confirmed number is its owner's, who stays)."""
from __future__ import annotations

from sqlalchemy import delete, select

from mypages.toolkit import company_members, hookimpl

from mypages_bankid.models import Identity, Order, Signature


@hookimpl
def mypages_company_export(context, company, archive):
    members = {member.id: member for member in company_members(
        context.dbsession, company.id, active_only=False)}
    identities = context.dbsession.scalars(select(Identity).where(
        Identity.user_id.in_(list(members))).order_by(Identity.user_id))
    archive.add_rows("identities", [{
        "user_id": identity.user_id, "email": members[identity.user_id].email,
        "confirmed_at": identity.confirmed_at,
        "entered_by_the_company": identity.registered_by_company_id == company.id,
        # only a number the company itself entered is the company's to have
        "personal_number": (identity.personal_number
                            if identity.registered_by_company_id == company.id else None),
    } for identity in identities])


@hookimpl
def mypages_company_erase(context, company, users):
    leaving = [user.id for user in users]
    dbsession = context.dbsession
    dbsession.execute(delete(Order).where(Order.user_id.in_(leaving)))
    dbsession.execute(delete(Signature).where(Signature.user_id.in_(leaving)))
    dbsession.execute(delete(Identity).where(
        Identity.user_id.in_(leaving)
        | ((Identity.registered_by_company_id == company.id)
           & Identity.confirmed_at.is_(None))))


@hookimpl
def mypages_user_export(context, user, archive):
    identity = context.dbsession.get(Identity, user.id)
    archive.add_rows("identity", [] if identity is None else [{
        "personal_number": identity.personal_number, "confirmed_at": identity.confirmed_at,
        "created_at": identity.created_at}])
