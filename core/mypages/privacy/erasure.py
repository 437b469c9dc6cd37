"""Erasing a company for good, and a person deleting their own account.

A company's erasure is one transaction: the plugins delete their rows
(``mypages_company_erase``), the company's own audit chain goes whole, the other chains
are redacted where they name it or its people (and linked anew, see
:mod:`mypages.privacy.redaction`), job payloads, throttles and notifications that name
them go, then the people who belonged to no other company and the company itself (and with
them every row that refers to them). What is left is a :class:`CompanyErasure` (which
company number, when, by whom) and the platform trail's ``company.erased``. The company's
blobs are deleted last, just before the commit: if the commit then failed, running the
erasure again finishes it."""
from __future__ import annotations

import logging

from sqlalchemy import delete, func, select

from mypages.accounts.models import User, UserSession
from mypages.api.models import ApiToken
from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo, UserInfo
from mypages.i18n import _
from mypages.inbox import AdminsOf, notify
from mypages.plugins import plugin_hooks
from mypages.privacy.models import CompanyErasure, DataExport
from mypages.privacy.redaction import Erasing, drop_chain, redact_trail, sweep
from mypages.refusals import Refusal
from mypages.services import audit_writer
from mypages.sso.models import SsoConnection, VerifiedDomain
from mypages.storage import blob_store
from mypages.work import Work

log = logging.getLogger(__name__)


class ErasureRefused(Refusal):
    pass


def confirmation_of(company) -> str:
    """What the operator types to confirm: the company's organisation number, or its id
    when it has none."""
    return company.org_number or str(company.id)


def _typed(text: str) -> str:
    return "".join(str(text).split()).replace("-", "")


def people_leaving(dbsession, company_id: int) -> list[User]:
    """The company's people who belong to no other company and are no operators: their
    accounts go with it."""
    others = select(Membership.user_id).where(Membership.company_id != company_id)
    return list(dbsession.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id, User.id.not_in(others),
               User.is_operator.is_(False)).order_by(User.id)))


def erase_company(work: Work, company_id: int, typed: str) -> CompanyErasure:
    """Erase the company ``company_id`` permanently; ``typed`` must be its number
    (:func:`confirmation_of`). Returns the record that is left."""
    dbsession = work.dbsession
    company = dbsession.get(Company, company_id, with_for_update=True)
    if company is None:
        raise ErasureRefused(_("There is no such company."), status=404)
    if _typed(typed) != _typed(confirmation_of(company)):
        raise ErasureRefused(_("Type the company's number exactly as shown to confirm the "
                               "erasure."))
    info = CompanyInfo.of(company)
    leaving = people_leaving(dbsession, company_id)
    users = [UserInfo.of(user) for user in leaving]
    context = work.event(info)
    values = [company.name, company.org_number, company.vat_number, company.invoice_email,
              company.street_address]
    values += [value for user in leaving for value in (user.email, user.display_name)]
    values += dbsession.scalars(select(VerifiedDomain.domain).where(
        VerifiedDomain.company_id == company_id)).all()
    for impl in reversed(plugin_hooks(work.registry).mypages_company_erase.get_hookimpls()):
        given = {"context": context, "company": info, "users": users}
        # a plugin that fails stops the erasure: nothing is erased by halves
        more = impl.function(**{name: given[name] for name in impl.argnames})
        values += [value for value in more or () if isinstance(value, str)]
    erasing = Erasing(
        [value for value in values if value], user_ids={user.id for user in leaving},
        company_id=company_id,
        token_ids=set(dbsession.scalars(select(ApiToken.id).where(
            ApiToken.company_id == company_id))),
        connection_ids=set(dbsession.scalars(select(SsoConnection.id).where(
            SsoConnection.company_id == company_id))))
    events = drop_chain(dbsession, company_id)
    redacted = redact_trail(dbsession, work.registry, erasing, "company erased",
                            leave=[company_id])
    swept = sweep(dbsession, erasing)
    if leaving:
        dbsession.execute(delete(User).where(User.id.in_(erasing.user_ids))
                          .execution_options(synchronize_session=False))
    dbsession.execute(delete(Company).where(Company.id == company_id)
                      .execution_options(synchronize_session=False))
    record = CompanyErasure(org_number=company.org_number, erased_at=work.now(),
                            erased_by_id=work.actor.user_id)
    dbsession.add(record)
    store = blob_store(work.registry, company_id)
    work.audit("company.erased", target=company.org_number or f"company {company_id}",
               org_number=company.org_number, erased_company=company_id, people=len(leaving),
               audit_events=events, redacted_events=redacted,
               blobs=sum(1 for _blob in store.list()), **swept)
    dbsession.flush()
    dbsession.expunge_all()  # the rows read are gone
    # last: blobs cannot be part of the transaction (run again if the commit then fails)
    store.delete_prefix("")
    log.info("company %s (%s) erased", company_id, company.org_number)
    return record


# -- a person's own account -------------------------------------------------------------

def companies_left_without_admin(dbsession, user_id: int) -> list[str]:
    """The names of the companies whose last admin the person is."""
    admins = (select(Membership.company_id, func.count().label("admins"))
              .where(Membership.role == Role.admin, Membership.disabled_at.is_(None))
              .group_by(Membership.company_id).subquery())
    return list(dbsession.scalars(
        select(Company.name).join(Membership, Membership.company_id == Company.id)
        .join(admins, admins.c.company_id == Company.id)
        .where(Membership.user_id == user_id, Membership.role == Role.admin,
               admins.c.admins <= 1).order_by(Company.name)))


def delete_account(work: Work, user_id: int) -> None:
    """The person deletes their own account: refused while they are the last admin of a
    company; their companies' admins are told; the audit trail keeps their events, without
    their name, address or where they signed in from."""
    dbsession = work.dbsession
    user = dbsession.get(User, user_id, with_for_update=True)
    if user is None:
        raise ErasureRefused(_("There is no such account."), status=404)
    last = companies_left_without_admin(dbsession, user_id)
    if last:
        raise ErasureRefused(_("You are the last admin of ${companies}: make someone else an "
                               "admin first, or ask us to erase the company.",
                               mapping={"companies": ", ".join(last)}), status=409)
    companies = list(dbsession.scalars(select(Membership.company_id)
                                       .where(Membership.user_id == user_id)))
    erasing = Erasing([user.email, user.display_name], user_ids={user_id})
    redact_trail(dbsession, work.registry, erasing, "account deleted")
    sweep(dbsession, erasing)
    person = user.display_name or user.email
    for company_id in companies:
        notify(work, AdminsOf(company_id), "privacy.account_deleted",
               _("Someone left the company"),
               _("${person} deleted their account and is no longer a member."),
               values={"person": person}, company_id=company_id)
    for export in dbsession.scalars(select(DataExport).where(
            DataExport.requested_by_id == user_id, DataExport.blob_key.is_not(None))):
        # their archives go with them (the rows by ON DELETE CASCADE)
        blob_store(work.registry, export.company_id).delete(export.blob_key)
    dbsession.execute(delete(UserSession).where(UserSession.user_id == user_id)
                      .execution_options(synchronize_session=False))
    dbsession.execute(delete(User).where(User.id == user_id)
                      .execution_options(synchronize_session=False))
    dbsession.expunge(user)
    for company_id in companies or [None]:
        # by nobody: an event by the person would name them again
        audit_writer(work.registry).record(dbsession, "account.deleted", company_id=company_id,
                                           target=f"user {user_id}", user_id=user_id)
