from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import exists, func, select

from mypages.accounts.models import TotpCredential, User
from mypages.policy.models import PlatformPolicy
from mypages.policy.platform import read_platform_requires_mfa
from mypages.companies.models import Company, Membership
from mypages.health import STATUS_WORDS, readiness
from mypages.i18n import _
from mypages.modules.models import Order
from mypages.services import clock

#: the values of the platform switch's form
SWITCH = {"on": True, "off": False}


@view_config(route_name="operator", renderer="mypages:templates/operator.jinja2",
             permission="operator")
def operator_home(request):
    members = (select(Membership.company_id, func.count().label("members"))
               .group_by(Membership.company_id).subquery())
    companies = request.dbsession.execute(
        select(Company, func.coalesce(members.c.members, 0))
        .outerjoin(members, members.c.company_id == Company.id)
        .order_by(Company.name).limit(500)
    ).all()
    return {"companies": companies, "plugins": request.registry["plugins.found"],
            "messages": request.session.pop_flash(),
            "health": readiness(request.registry), "status_words": STATUS_WORDS}


@view_config(route_name="operator_orders", renderer="mypages:templates/orders.jinja2",
             permission="operator")
def operator_orders(request):
    orders = request.dbsession.execute(
        select(Order, Company, User).join(Company, Company.id == Order.company_id)
        .outerjoin(User, User.id == Order.ordered_by_id)
        .order_by(Order.created_at.desc()).limit(500)
    ).all()
    return {"orders": orders, "catalogue": request.registry["modules.catalogue"]}


# -- the platform's sign-in policy ---------------------------------------------------

def _without_authenticator(dbsession) -> int:
    """Active users with no confirmed authenticator app: those the requirement sends to set one
    up (unless they sign in with Single Sign On)."""
    return dbsession.scalar(select(func.count()).select_from(User).where(
        User.is_active.is_(True),
        ~exists().where(TotpCredential.user_id == User.id,
                        TotpCredential.confirmed_at.is_not(None))))


def security_page(request, confirm: str | None = None, error=None):
    return {"require_mfa": read_platform_requires_mfa(request), "confirm": confirm, "error": error,
            "without": _without_authenticator(request.dbsession),
            "messages": request.session.pop_flash()}


@view_config(route_name="operator_security", renderer="mypages:templates/operator_security.jinja2",
             permission="operator", request_method="GET")
def platform_security(request):
    return security_page(request)


@view_config(route_name="operator_security", renderer="mypages:templates/operator_security.jinja2",
             permission="operator", request_method="POST")
def change_platform_security(request):
    """Require a second factor of every user, or stop: asked, then confirmed, then audited."""
    choice = request.POST.get("require_mfa", "")
    if choice not in SWITCH:
        request.response.status = 400
        return security_page(request, error=_("Unknown action."))
    wanted = SWITCH[choice]
    if wanted == read_platform_requires_mfa(request):
        return HTTPSeeOther(request.route_url("operator_security"))
    if request.POST.get("confirmed") != "yes":
        return security_page(request, confirm=choice)
    # locked, so two operators switching at once are recorded one after the other
    row = request.dbsession.get(PlatformPolicy, 1, with_for_update=True)
    if row is None:
        row = PlatformPolicy(id=1, require_mfa=False)
        request.dbsession.add(row)
    before = bool(row.require_mfa)
    if before == wanted:  # another operator was quicker
        return HTTPSeeOther(request.route_url("operator_security"))
    row.require_mfa, row.updated_at = wanted, clock(request).now()
    row.updated_by_id = request.user.id
    request.registry["policy.platform"].forget_after_commit(request)
    request.audit("platform.policy_changed", company=None,
                  changes={"require_mfa": [before, wanted]})
    request.session.flash(request.translate(
        _("Two-factor authentication is now required of every user.") if wanted else
        _("Two-factor authentication is no longer required of every user: each company's own "
          "setting decides.")))
    return HTTPSeeOther(request.route_url("operator_security"))
