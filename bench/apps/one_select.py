"""pyramid_tm + zope.sqlalchemy around one indexed ORM SELECT (a company by primary key).

Set up the way the core sets up its database (same engine tuning, explicit
transaction manager, session joined to the request's transaction), so the
gap to the dashboard is what the dashboard does on top of one query.
"""
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from mypages.companies.models import Company
from mypages.db import engine_from_url, session_in_transaction


def company(request):
    found = request.dbsession.scalars(
        select(Company).where(Company.id == int(request.matchdict["company_id"]))
    ).one_or_none()
    if found is None:
        raise HTTPNotFound()
    return Response(found.name, content_type="text/plain")


def make_app(database_url: str):
    settings = {"tm.manager_hook": "pyramid_tm.explicit_manager"}
    with Configurator(settings=settings) as config:
        config.include("pyramid_tm")
        session_factory = sessionmaker(bind=engine_from_url(database_url), expire_on_commit=False)
        config.add_request_method(
            lambda request: session_in_transaction(session_factory, request.tm),
            "dbsession", reify=True)
        config.add_route("company", "/company/{company_id:\\d+}")
        config.add_view(company, route_name="company")
    return config.make_wsgi_app()

