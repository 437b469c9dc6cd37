"""Tenant enumeration: whoever is not a member of a company learns nothing of it from its
addresses (mypages.companies.company_context, mypages.modules.missing_module).

Every ``/c/{id}/...`` address gives one answer to a visitor who is not signed in (sign in
first) and one to a signed-in person who is not a member ("Page not found"), whether the
company exists, has the page's module or not, with nothing of the company on it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mypages.companies.models import Company
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import browser

PAGES = ("/", "/notes", "/settings/", "/settings/modules", "/settings/notes", "/settings/sso",
         "/settings/people")
NAMES = ("Alpha Holding AB", "Beta Holding AB")


@pytest.fixture
def tenants(factory, dbsession):
    """Ids of a company with the modules, one without, and one that does not exist."""
    with_modules, without = factory.company(NAMES[0]), factory.company(NAMES[1])
    for key in ("notes", "sso"):
        dbsession.add(ModuleActivation(company_id=with_modules.id, module_key=key,
                                       state=ModuleState.active))
    dbsession.commit()
    missing = dbsession.scalar(select(func.max(Company.id))) + 1000
    return {"with modules": with_modules.id, "without": without.id, "missing": missing}


def answer(response, company_id: int) -> tuple:
    """Status, where it leads and the page, with the company's id taken out of the address
    (as typed and as URL-encoded in a ``next=``)."""
    def general(text: str) -> str:
        return (text.replace(f"/c/{company_id}/", "/c/ID/")
                .replace(f"%2Fc%2F{company_id}%2F", "%2Fc%2FID%2F"))

    return (response.status_int, general(response.headers.get("Location", "")),
            general(response.text))


def answers(client, tenants, path: str, post: dict | None = None) -> dict:
    found = {}
    for kind, company_id in tenants.items():
        url = f"/c/{company_id}{path}"
        response = (client.post(url, post, expect_errors=True) if post is not None
                    else client.get(url, expect_errors=True))
        for name in NAMES:
            assert name not in response.text, (kind, path)
        found[kind] = answer(response, company_id)
    return found


@pytest.mark.parametrize("has_cookie", [False, True], ids=["first-visit", "signed-out"])
def test_a_visitor_not_signed_in_is_sent_to_sign_in_for_every_company(app, tenants, has_cookie):
    visitor = browser(app, ip="198.51.100.20")
    if has_cookie:
        visitor.get("/login")
    for path in PAGES:
        found = answers(visitor, tenants, path)
        assert len(set(found.values())) == 1, (path, found)
        status, location, _ = found["missing"]
        assert status == 303 and "/login?next=%2Fc%2FID%2F" in location, (path, found)
    token = csrf_token(visitor, "/login")
    found = answers(visitor, tenants, "/settings/modules/notes/activate", {"csrf_token": token})
    assert len(set(found.values())) == 1, found


def test_a_signed_in_stranger_gets_the_same_page_not_found_for_every_company(
        app, factory, tenants, dbsession):
    stranger = factory.user(company=factory.company("Stranger's Own AB"), role="admin")
    client = browser(app, ip="198.51.100.21")
    sign_in(client, stranger.email)
    for path in PAGES:
        found = answers(client, tenants, path)
        assert len(set(found.values())) == 1, (path, found)
        status, _, page = found["missing"]
        assert status == 404 and 'data-reason=""' in page, path  # "Page not found"
    token = csrf_token(client, "/companies")
    found = answers(client, tenants, "/settings/modules/notes/activate", {"csrf_token": token})
    assert len(set(found.values())) == 1, found
    assert found["missing"][0] == 404
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 2


def test_a_member_still_hears_that_their_company_lacks_the_module(app, factory, tenants):
    own = factory.company("Member Own AB")
    member = factory.user(company=own)
    client = browser(app, ip="198.51.100.22")
    sign_in(client, member.email)
    page = client.get(f"/c/{own.id}/notes", status=404)
    assert 'data-reason="module-not-active"' in page.text
    assert "Member Own AB" in page.text
