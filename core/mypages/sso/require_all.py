"""'Require from all': only Single Sign On for the company's people.

It can only be switched on after an admin of the company signed in through
the current connection since its last change. While it is on, password
sign-in, password reset and local two-factor are closed for the company's
people, except its break-glass admins. If the module lapses, the requirement
is suspended (never a lock-out) and the admins are told (a notification, by
e-mail too unless they chose otherwise); buying the module brings it back.
"""
from __future__ import annotations

from sqlalchemy import select

from mypages.accounts.methods import login_methods, second_factors_among
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.i18n import _
from mypages.inbox import AdminsOf, notify
from mypages.modules.lifecycle import entitled_keys
from mypages.modules.models import ModuleState
from mypages.people.members import company_admins
from mypages.refusals import Refusal
from mypages.sso.connections import connection_of
from mypages.sso.models import VerifiedDomain
from mypages.web.urls import route_path
from mypages.work import Work

#: the kind of notification of the Single Sign On module (sso/hooks.py declares it)
NOTIFICATION_KIND = "sso"
SUSPENDED_TITLE = _("Single Sign On is no longer required at ${company}")
SUSPENDED_BODY = _("The Single Sign On module of ${company} is no longer active, so "
                   "\"Require from all\" is suspended: your people can sign in with "
                   "their passwords again. Buy the module under Company settings to "
                   "require Single Sign On again.")


class RequireAllRefused(Refusal):
    """'Require from all' cannot be switched on yet."""


BREAK_GLASS_NEEDED = _(
    "Choose at least one break-glass admin who has two-factor authentication turned on (under "
    "Security) first. If your identity provider is down or set up wrong, a break-glass admin is "
    "the only one who can still sign in and fix it.")


def _policy(dbsession, company_id: int) -> CompanyPolicy:
    policy = dbsession.get(CompanyPolicy, company_id)
    if policy is None:
        policy = CompanyPolicy(company_id=company_id, require_mfa=False, password_allowed=True,
                               password_min_length=12)
        dbsession.add(policy)
    return policy


def has_verified_domain(dbsession, company_id: int) -> bool:
    return dbsession.scalar(select(VerifiedDomain.id).where(
        VerifiedDomain.company_id == company_id, VerifiedDomain.verified_at.is_not(None)
    ).limit(1)) is not None


def break_glass_ready(dbsession, registry, company_id: int, now) -> bool:
    """Whether an active admin of the company is a break-glass admin with a second factor
    that does not go through Single Sign On: who can still sign in when the identity provider
    cannot be reached."""
    chosen = set(dbsession.scalars(select(BreakGlassAdmin.user_id).where(
        BreakGlassAdmin.company_id == company_id)))
    admins = [admin.id for admin in company_admins(dbsession, company_id) if admin.id in chosen]
    local = {key: method for key, method in login_methods(registry).items()
             if not key.startswith("sso:")}
    return bool(admins) and bool(second_factors_among(
        dbsession, admins, local, entitled_keys(dbsession, company_id, now)))


def switch(work: Work, company, on: bool) -> None:
    connection = connection_of(work.dbsession, company.id)
    if on:
        if connection is None:
            raise RequireAllRefused(_("Set up the connection to your identity provider first."))
        if connection.admin_tested_at is None or connection.admin_tested_at < connection.changed_at:
            raise RequireAllRefused(_("An admin must sign in through the connection (Test the "
                                      "connection) after its last change before it can be "
                                      "required from all."))
        if not has_verified_domain(work.dbsession, company.id):
            # people reach Single Sign On by their e-mail's domain; without one, nobody could
            raise RequireAllRefused(_("Verify your mail domain first: your people are sent to "
                                      "Single Sign On by the domain of their e-mail address."))
        if not break_glass_ready(work.dbsession, work.registry, company.id, work.now()):
            # the only way in when the identity provider is down or misconfigured
            raise RequireAllRefused(BREAK_GLASS_NEEDED)
    if connection is not None:
        connection.require_all = on
    _policy(work.dbsession, company.id).password_allowed = not on
    work.audit("sso.require_all_switched", company=company, on=on)


def module_state_changed(context, company, old_state, new_state) -> None:
    """Suspend the requirement when the module lapses; restore it when it is bought.

    ``context`` is the change's :class:`~mypages.events.EventContext`: an admin's
    click puts the event on record as theirs, a job's (a trial ended) as nobody's."""
    connection = connection_of(context.dbsession, company.id)
    if connection is None or not connection.require_all:
        return
    entitled = new_state in (ModuleState.trial, ModuleState.active)
    _policy(context.dbsession, company.id).password_allowed = not entitled
    context.audit("sso.require_all_restored" if entitled else "sso.require_all_suspended",
                  target="sso")
    if not entitled:
        notify(context, AdminsOf(company.id), NOTIFICATION_KIND, SUSPENDED_TITLE,
               SUSPENDED_BODY, values={"company": company.name},
               link=route_path(context, "company_modules", company_id=company.id))
