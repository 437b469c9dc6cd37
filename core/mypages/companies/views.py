"""The signed-in user's companies, and a company's dashboard."""
from __future__ import annotations

from typing import NamedTuple

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.companies.models import Company, Membership


class ShownCard(NamedTuple):
    """A dashboard card as the page shows it."""

    title: str
    body: str
    href: str | None


def memberships_of(request):
    return request.dbsession.execute(
        select(Membership, Company).join(Company).where(Membership.user_id == request.user.id)
        .order_by(Company.name)
    ).all()


@view_config(route_name="home")
def home(request):
    if request.user is None:
        return HTTPSeeOther(request.route_url("login"))
    rows = memberships_of(request)
    if len(rows) == 1:
        return HTTPSeeOther(request.route_url("dashboard", company_id=rows[0].Company.id))
    if not rows and request.user.is_operator:
        return HTTPSeeOther(request.route_url("operator"))
    return HTTPSeeOther(request.route_url("companies"))


@view_config(route_name="companies", renderer="mypages:templates/companies.jinja2",
             permission="signed-in")
def companies(request):
    return {"rows": memberships_of(request)}


@view_config(route_name="dashboard", renderer="mypages:templates/dashboard.jinja2",
             permission="company.view")
def dashboard(request):
    offered = [card for cards in request.company_hooks.mypages_dashboard_cards(
        request=request, company=request.company) for card in cards]
    company_id = request.company.id
    # translated and linked here, not in the template, where every call costs more
    return {"cards": [
        ShownCard(request.translate(card.title), request.translate(card.body),
                  request.path_for(card.route_name, company_id=company_id)
                  if card.route_name else None)
        for card in sorted(offered, key=lambda card: card.order)]}


@view_config(route_name="company_settings", permission="company.admin")
def company_settings(request):
    return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))
