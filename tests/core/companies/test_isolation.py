"""A company admin can never act on another company, whatever id is in the URL.

Every route whose pattern has ``{company_id}`` is tried, with GET and POST
(with a valid CSRF token), by the admin of company A on company B, which is
entitled to every module. Nothing may succeed, nothing may change, and company B is
"Page not found" throughout.
"""
import re

import pytest
from pyramid.interfaces import IRoutesMapper
from sqlalchemy import func, select, text

from mypages.db import Base
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token

PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def company_routes(app):
    mapper = app.registry.getUtility(IRoutesMapper)
    # operators' pages take any company's id by design; tests/core/operator and
    # tests/core/privacy prove they refuse everybody else
    return [route for route in mapper.get_routes()
            if "{company_id}" in route.pattern and not route.pattern.startswith("/operator/")]


def url_for(route, company_id, module_key):
    values = {"company_id": str(company_id), "module_key": module_key, "action": "activate"}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), "x"), route.pattern)


def row_counts(dbsession):
    dbsession.expire_all()
    return {t.name: dbsession.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar()
            for t in Base.metadata.sorted_tables if t.name != "audit_events"}


@pytest.fixture
def two_companies(app, factory, dbsession):
    mine, theirs = factory.company("Mine AB"), factory.company("Theirs AB")
    admin = factory.user(company=mine, role="admin")
    factory.user(company=theirs, role="admin")
    for key in app.registry["modules.catalogue"].modules:
        dbsession.add(ModuleActivation(company_id=theirs.id, module_key=key,
                                       state=ModuleState.active))
    dbsession.commit()
    return admin, mine, theirs


def test_every_company_route_is_refused_for_another_company(app, two_companies, signed_in,
                                                             dbsession):
    admin, mine, theirs = two_companies
    testapp = signed_in(admin)
    token = csrf_token(testapp, f"/c/{mine.id}/")
    routes = company_routes(app)
    assert len(routes) >= 5, "expected the core's and the notes plugin's company routes"
    before = row_counts(dbsession)
    tried = []
    for route in routes:
        for key in ("notes", "no_such_module"):
            url = url_for(route, theirs.id, key)
            for method in ("GET", "POST"):
                params = {"csrf_token": token, "text": "x", "heading": "x"}
                response = (testapp.get(url, expect_errors=True) if method == "GET"
                            else testapp.post(url, params, expect_errors=True))
                tried.append((method, url, response.status_int))
                # not a member: as if the company did not exist (tests/security/test_tenant_enumeration.py)
                assert response.status_int == 404, (method, url, response.status)
                assert "Theirs AB" not in response.text
    assert row_counts(dbsession) == before
    # and the same requests on the admin's own company do work for at least the pages
    testapp.get(f"/c/{mine.id}/settings/modules", status=200)


def test_a_member_of_both_companies_is_admin_only_where_they_are_admin(factory, signed_in,
                                                                     dbsession):
    from mypages.companies.models import Membership, Role

    first, second = factory.company("First AB"), factory.company("Second AB")
    user = factory.user(company=first, role="admin")
    dbsession.add(Membership(company_id=second.id, user_id=user.id, role=Role.member))
    dbsession.commit()
    testapp = signed_in(user)
    page = testapp.get("/companies")
    assert "First AB" in page.text and "Second AB" in page.text
    testapp.get(f"/c/{first.id}/settings/modules", status=200)
    testapp.get(f"/c/{second.id}/", status=200)
    testapp.get(f"/c/{second.id}/settings/modules", status=403)
    token = csrf_token(testapp, f"/c/{second.id}/")
    testapp.post(f"/c/{second.id}/settings/modules/notes/activate", {"csrf_token": token},
                 status=403)
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 0


def test_anonymous_visitors_are_sent_to_sign_in(app, testapp, factory):
    company = factory.company()
    for route in company_routes(app):
        response = testapp.get(url_for(route, company.id, "notes"), expect_errors=True)
        assert response.status_int in (303, 404), route.pattern
        if response.status_int == 303:
            assert "/login" in response.location


def test_unknown_or_malformed_company_ids_are_not_found(testapp, factory, signed_in):
    company = factory.company()
    user = factory.user(company=company, role="admin")
    testapp = signed_in(user)
    testapp.get("/c/999999/", status=404)
    testapp.get("/c/abc/", status=404)
    for odd in ("0", "-1", "99999999999", "%D9%A1"):  # the last: an Arabic-Indic digit one
        testapp.get(f"/c/{odd}/", status=404)
