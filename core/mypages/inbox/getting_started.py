"""The dashboard's first cards for a company's admins: the next steps of a new company
(invite people, turn on two-factor authentication, try a module), until each is done, and
the free trials running, with the days left and a way to buy.

The dashboard reads everything else in one SELECT (mypages.policy.context); these cards
add one more, read-only, without an ORM session, and only for admins. Whether the admin has
a second factor is known without a query: sign-in asks for it whenever one is set up, so
the session's methods tell."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select

from mypages.accounts.methods import has_second_factor, login_methods
from mypages.companies.models import Company, Invitation, Membership
from mypages.contract import DashboardCard
from mypages.db import read_all
from mypages.i18n import _
from mypages.modules import lifecycle
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import clock

COMPANY = bindparam("company_id")

#: one row per free trial of the company (one row of NULLs if none), each with the counts
#: the next steps need
STARTING_OUT = (
    select(
        select(func.count()).select_from(Membership).where(Membership.company_id == COMPANY)
        .scalar_subquery().label("people"),
        select(func.count()).select_from(Invitation).where(Invitation.company_id == COMPANY)
        .scalar_subquery().label("invited"),
        select(func.count()).select_from(ModuleActivation)
        .where(ModuleActivation.company_id == COMPANY).scalar_subquery().label("tried"),
        ModuleActivation.module_key, ModuleActivation.state, ModuleActivation.trial_ends_at)
    .select_from(Company)
    .outerjoin(ModuleActivation, and_(ModuleActivation.company_id == Company.id,
                                      ModuleActivation.state == ModuleState.trial))
    .where(Company.id == COMPANY)
    .order_by(ModuleActivation.trial_ends_at)
)


@dataclass(frozen=True)
class Step:
    key: str
    text: str
    action: str
    href: str
    done: bool


@dataclass(frozen=True)
class Trial:
    key: str
    title: str
    days_left: int
    ends_at: object
    buy_href: str


def cards(request, company) -> list[DashboardCard]:
    if not request.has_permission("company.admin"):
        return []
    rows = read_all(request, STARTING_OUT, {"company_id": company.id})
    if not rows:
        return []
    first = rows[0]
    protected = has_second_factor(request.user_session.amr, login_methods(request.registry),
                                  request.entitled_modules)
    steps = [
        Step("invite", request.translate(_("Invite the people you work with")),
             request.translate(_("Invite")),
             request.path_for("company_people", company_id=company.id),
             first.people > 1 or first.invited > 0),
        Step("two-factor", request.translate(_("Turn on two-factor authentication for your "
                                               "account")),
             request.translate(_("Turn on")), request.path_for("two_factor"), protected),
        Step("module", request.translate(_("Try a module free")),
             request.translate(_("See the modules")),
             request.path_for("company_modules", company_id=company.id), first.tried > 0),
    ]
    now = clock(request).now()
    catalogue = request.registry["modules.catalogue"]
    trials = [Trial(row.module_key, request.translate(catalogue.get(row.module_key).title),
                    lifecycle.days_left(row, now), row.trial_ends_at,
                    request.path_for("module_purchase", company_id=company.id,
                                     module_key=row.module_key))
              for row in rows
              if row.module_key is not None and catalogue.get(row.module_key) is not None]
    found = []
    if not all(step.done for step in steps):
        found.append(DashboardCard(_("Next steps"), order=0,
                                   template="mypages:templates/_next_steps.jinja2",
                                   values={"steps": steps}))
    if trials:
        found.append(DashboardCard(_("Free trials"), order=1,
                                   template="mypages:templates/_trials.jinja2",
                                   values={"trials": trials}))
    return found
