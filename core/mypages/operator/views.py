from __future__ import annotations

from pyramid.view import view_config
from sqlalchemy import func, select

from mypages.accounts.models import User
from mypages.companies.models import Company, Membership
from mypages.modules.models import Order


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
    return {"companies": companies, "plugins": request.registry["plugins.found"]}


@view_config(route_name="operator_orders", renderer="mypages:templates/orders.jinja2",
             permission="operator")
def operator_orders(request):
    orders = request.dbsession.execute(
        select(Order, Company, User).join(Company, Company.id == Order.company_id)
        .outerjoin(User, User.id == Order.ordered_by_id)
        .order_by(Order.created_at.desc()).limit(500)
    ).all()
    return {"orders": orders, "catalogue": request.registry["modules.catalogue"]}
