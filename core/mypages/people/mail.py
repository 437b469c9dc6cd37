"""E-mail to a person or to a company's admins, each in their own language: the reader's
language, else their company's default, else the platform's.

``where`` is anything with a ``dbsession`` and a ``registry``: a request, a job's
:class:`~mypages.contract.JobContext`, an :class:`~mypages.events.EventContext` or a
:class:`~mypages.work.Work`. The mail goes out with the application's
:class:`~mypages.services.Mailer` at once, and raises if it cannot. From a queued job, a send
that fails to one person does not make the job mail everyone again: the job is queued again
for that person alone (its payload's ``mail_to``), after a pause that doubles each time, and
only after :data:`MAIL_TRIES` tries does the error fail the job. Queue a job to send from a
request, so a page never waits for the mail server.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company
from mypages.contract import CompanyInfo, JobContext, UserInfo
from mypages.notifications.compose import compose, reader_locale
from mypages.people.members import company_admins
from mypages.services import mailer


def _company(where, company_id: int | None) -> CompanyInfo | None:
    if company_id is None:
        return getattr(where, "company", None)
    company = where.dbsession.get(Company, company_id)
    return CompanyInfo.of(company) if company is not None else None


log = logging.getLogger(__name__)

#: a queued job's payload keys: the people a run queued again mails (no one else), and how
#: many sends to them have failed
MAIL_TO = "mail_to"
MAIL_FAILED = "mail_failed"
#: tries of a send to one person before its error fails the job
MAIL_TRIES = 5


def _wanted(where, user_id: int) -> bool:
    """Whether this run mails ``user_id``: a job queued again for some people mails them only."""
    payload = where.payload if isinstance(where, JobContext) else {}
    return MAIL_TO not in payload or user_id in payload[MAIL_TO]


def _deliver(where, recipient: UserInfo, company: CompanyInfo | None, subject, body,
             template: str | None, values: dict | None) -> bool:
    """:func:`_send`; from a queued job, a failed send is queued again (False)."""
    try:
        _send(where, recipient, company, subject, body, template, values)
        return True
    except Exception as error:
        if not (isinstance(where, JobContext) and where.key):  # not a queued job's
            raise
        failed = where.payload.get(MAIL_FAILED, 0) + 1
        if failed >= MAIL_TRIES:
            raise
        # the class of the error only: a mail server's answer may quote the address
        log.warning("e-mail to user %s from job %s failed (%s); queued again, try %s of %s",
                    recipient.id, where.name, type(error).__name__, failed + 1, MAIL_TRIES)
        where.enqueue(where.name, {**where.payload, MAIL_TO: [recipient.id],
                                   MAIL_FAILED: failed},
                      dedupe_key=f"mail:{where.key}:{recipient.id}",
                      run_after=where.now + dt.timedelta(minutes=2 ** failed))
        return False


def _send(where, recipient: UserInfo, company: CompanyInfo | None, subject, body,
          template: str | None, values: dict | None) -> None:
    locale = reader_locale(recipient.locale, company.default_locale if company else None)
    given = dict(values or {})
    if template is not None:
        given.update(recipient=recipient, company=company)
    else:
        given.setdefault("recipient", recipient.name)
        if company is not None:
            given.setdefault("company", company.name)
    mail_subject, mail_body = compose(where.registry, locale, subject=subject, body=body,
                                      template=template, values=given)
    mailer(where.registry).send(recipient.email, mail_subject, mail_body)


def mail_user(where, user_id: int, subject=None, body=None, *, template: str | None = None,
              values: dict | None = None, company_id: int | None = None) -> bool:
    """E-mail the person ``user_id`` in their language; ``False`` (nothing sent now) when
    there is no such active account, or when a queued job's send failed and was queued
    again.

    Give ``subject`` and ``body`` as translation strings of your domain, whose ``${name}``
    placeholders ``values`` fill in (dates, :class:`~decimal.Decimal` numbers and
    :class:`~mypages.contract.Price` money written as the reader's language writes them;
    ``${recipient}`` is the reader's name and ``${company}`` the company's), or a Jinja2
    ``template`` with a ``subject`` and a ``body`` block. ``company_id`` (else ``where``'s
    company) is the company the mail is about: its default language is the fallback."""
    user = where.dbsession.get(User, user_id)
    if user is None or not user.is_active:
        return False
    if not _wanted(where, user_id):
        return False
    return _deliver(where, UserInfo.of(user), _company(where, company_id), subject, body,
                    template, values)


def mail_company_admins(where, company_id: int, subject=None, body=None, *,
                        template: str | None = None, values: dict | None = None,
                        skip_user_id: int | None = None) -> int:
    """E-mail every active admin of the company, each in their own language (as
    :func:`mail_user`), but ``skip_user_id`` (the admin who made the change, say). Returns
    how many were sent."""
    company = _company(where, company_id)
    if company is None:
        return 0
    sent = 0
    for admin in company_admins(where.dbsession, company_id):
        if admin.id != skip_user_id and _wanted(where, admin.id):
            sent += _deliver(where, admin, company, subject, body, template, values)
    return sent


def mail_operators(where, subject=None, body=None, *, template: str | None = None,
                   values: dict | None = None) -> int:
    """E-mail every active operator of the platform, each in their own language (as
    :func:`mail_user`, without a company): for what only operators can act on, such as a
    certificate about to expire. Returns how many were sent."""
    operators = where.dbsession.scalars(select(User).where(
        User.is_operator.is_(True), User.is_active.is_(True)).order_by(User.id))
    sent = 0
    for operator in operators:
        if _wanted(where, operator.id):
            sent += _deliver(where, UserInfo.of(operator), None, subject, body, template, values)
    return sent
