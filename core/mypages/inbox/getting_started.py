"""The dashboard's first cards for a company's admins: the next steps of a new company
(invite people, turn on two-factor authentication, try a module), until each is done, the
free trials running, with the days left and a way to buy, and the company's security at a
glance (what its sign-in policy requires, and how many of its people have a second factor).

What they need is read in the dashboard's one SELECT (mypages.policy.context), as the
dashboard route's own columns, and for admins only: a member's dashboard reads none of it.
Whether the admin has a second factor is known without a query: sign-in asks for it whenever
one is set up, so the session's methods tell."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from mypages.accounts.methods import has_second_factor, login_methods
from mypages.accounts.models import TotpCredential
from mypages.companies import PAGE_COMPANY_ID, for_admins
from mypages.companies.models import Invitation, Membership
from mypages.contract import DashboardCard
from mypages.db import json_rows, utc_from_json
from mypages.i18n import _
from mypages.modules.lifecycle import days_until
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import clock

DASHBOARD_ROUTE = "dashboard"
#: the next steps of a new company, in the order the card shows them (its template words them)
STEPS = ("invite", "two-factor", "module")
_member = aliased(Membership)


#: the dashboard's own columns: whether anyone else is in the company or invited to it (an
#: EXISTS each, however large the company), and the company's modules tried, with their state
#: and the end of a trial ([key, state, end] each: a company has a few)
STARTING_OUT = (
    for_admins(or_(exists().where(_member.company_id == PAGE_COMPANY_ID,
                                  _member.user_id != Membership.user_id),
                   exists().where(Invitation.company_id == PAGE_COMPANY_ID)), "start_not_alone"),
    for_admins(select(json_rows(ModuleActivation.module_key, ModuleActivation.state,
                                ModuleActivation.trial_ends_at))
               .where(ModuleActivation.company_id == PAGE_COMPANY_ID), "start_modules"),
    # the security card: the people who can sign in, and those of them with an authenticator
    for_admins(select(func.count()).select_from(_member)
               .where(_member.company_id == PAGE_COMPANY_ID, _member.disabled_at.is_(None)),
               "security_people"),
    for_admins(select(func.count()).select_from(_member)
               .join(TotpCredential, TotpCredential.user_id == _member.user_id)
               .where(_member.company_id == PAGE_COMPANY_ID, _member.disabled_at.is_(None),
                      TotpCredential.confirmed_at.is_not(None)), "security_two_factor"),
)


@dataclass(frozen=True)
class Trial:
    key: str
    title: str
    days_left: int
    ends_at: object
    buy_href: str


def cards(request, company) -> list[DashboardCard]:
    values = request.context.page_values
    if not request.has_permission("company.admin") or values.get("start_not_alone") is None:
        return []
    tried = values["start_modules"] or ()
    protected = has_second_factor(request.user_session.amr, login_methods(request.registry),
                                  request.entitled_modules)
    done = {key for key, finished in (("invite", values["start_not_alone"]),
                                      ("two-factor", protected), ("module", tried)) if finished}
    now = clock(request).now()
    catalogue = request.registry["modules.catalogue"]
    running = sorted((utc_from_json(ends_at), key) for key, state, ends_at in tried
                     if state == ModuleState.trial.value and ends_at is not None)
    trials = [Trial(key, request.translate(catalogue.get(key).title),
                    days_until(ends_at, now), ends_at,
                    request.path_for("module_purchase", company_id=company.id, module_key=key))
              for ends_at, key in running if catalogue.get(key) is not None]
    found = []
    if len(done) < len(STEPS):
        hrefs = {"invite": request.path_for("company_people", company_id=company.id),
                 "two-factor": request.path_for("two_factor"),
                 "module": request.path_for("company_modules", company_id=company.id)}
        found.append(DashboardCard(_("Next steps"), order=0,
                                   template="mypages:templates/_next_steps.jinja2",
                                   values={"done": done, "hrefs": hrefs}))
    if trials:
        found.append(DashboardCard(_("Free trials"), order=1,
                                   template="mypages:templates/_trials.jinja2",
                                   values={"trials": trials}))
    policy = request.context.policy
    found.append(DashboardCard(
        _("Security"), order=2, template="mypages:templates/_security_status.jinja2",
        values={"require_mfa": policy.require_mfa, "sso_only": not policy.password_allowed,
                "people": values["security_people"],
                "two_factor": values["security_two_factor"],
                "href": request.path_for("company_security", company_id=company.id)}))
    return found


def includeme(config):
    config.add_company_page_columns(DASHBOARD_ROUTE, *STARTING_OUT)
