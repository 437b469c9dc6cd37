"""E-mail to a person or to a company's admins, each in their own language: the reader's
language, else their company's default, else the platform's.

``where`` is anything with a ``dbsession`` and a ``registry``: a request, a job's
:class:`~mypages.contract.JobContext`, an :class:`~mypages.events.EventContext` or a
:class:`~mypages.work.Work`. The mail goes out with the application's
:class:`~mypages.services.Mailer` at once, and raises if it cannot: from a job, the job is
tried again. Queue a job to send from a request, so a page never waits for the mail server.
"""
from __future__ import annotations

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company
from mypages.contract import CompanyInfo, UserInfo
from mypages.notifications.compose import compose, reader_locale
from mypages.people.members import company_admins
from mypages.services import mailer


def _company(where, company_id: int | None) -> CompanyInfo | None:
    if company_id is None:
        return getattr(where, "company", None)
    company = where.dbsession.get(Company, company_id)
    return CompanyInfo.of(company) if company is not None else None


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
    """E-mail the person ``user_id`` in their language; ``False`` (nothing sent) when there
    is no such active account.

    Give ``subject`` and ``body`` as translation strings of your domain, whose ``${name}``
    placeholders ``values`` fill in (dates, :class:`~decimal.Decimal` numbers and
    :class:`~mypages.contract.Price` money written as the reader's language writes them;
    ``${recipient}`` is the reader's name and ``${company}`` the company's), or a Jinja2
    ``template`` with a ``subject`` and a ``body`` block. ``company_id`` (else ``where``'s
    company) is the company the mail is about: its default language is the fallback."""
    user = where.dbsession.get(User, user_id)
    if user is None or not user.is_active:
        return False
    _send(where, UserInfo.of(user), _company(where, company_id), subject, body, template, values)
    return True


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
        if admin.id != skip_user_id:
            _send(where, admin, company, subject, body, template, values)
            sent += 1
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
        _send(where, UserInfo.of(operator), None, subject, body, template, values)
        sent += 1
    return sent
