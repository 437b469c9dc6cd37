"""Entra ID (Azure AD) specifics (identity-security.md): people keyed on tid + oid, never on
e-mail, upn or preferred_username ("nOAuth"); the issuer checked against the token's tid and
the company's tenant; e-mail vouched for only with ``xms_edov``; group overage read from
Graph or skipped with a warning, never taken for "member of no group"."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Group, GroupMember
from mypages_devtools.fakes.oidc_provider import azure_user
from mypages.sso.models import SsoConnection, SsoGroupMapping, SsoLink
from mypages.testing.sso import AZURE_TENANT, OTHER_TENANT, sso_sign_in
from tests.security.oidc_support import (ANNA_OID, anna, assert_refused,  # noqa: F401
                                         assert_signed_in, company, entra, rejections,
                                         session_count, visitor)
from tests.security.support import browser, count

EMAIL = "anna@example.se"
MALLORY_OID = "7d2c1f00-9a9a-4b4b-8c8c-0000000000ff"
FINANCE = "1f0b7c52-7d0b-4a8e-9e1c-2b1b6f0e0001"
SALES = "1f0b7c52-7d0b-4a8e-9e1c-2b1b6f0e0002"


def other_tenant_claims(entra) -> dict:
    return {"tid": OTHER_TENANT, "iss": f"{entra.base_url}/{OTHER_TENANT}/v2.0"}


# -- who is who ------------------------------------------------------------------------------

def test_a_token_from_another_tenant_is_refused(dbsession, visitor, anna, entra):
    """Valid signature (Entra signs for every tenant with the same keys), other tenant."""
    entra.misbehave(claims=other_tenant_claims(entra))
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "tenant-mismatch")
    assert count(dbsession, SsoLink) == 0


def test_the_issuer_of_another_tenant_with_our_tid_is_refused(dbsession, visitor, anna, entra):
    entra.misbehave(claims={"iss": f"{entra.base_url}/{OTHER_TENANT}/v2.0"})
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "invalid-iss")


def test_our_issuer_with_the_tid_of_another_tenant_is_refused(dbsession, visitor, anna, entra):
    entra.misbehave(claims={"tid": OTHER_TENANT})
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "tenant-mismatch")


def test_the_multi_tenant_endpoints_cannot_be_configured(testapp, factory, dbsession, company,
                                                         signed_in):
    """"common" or "organizations" would accept every tenant's people."""
    admin = factory.user("admin@example.se", company=company, role="admin")
    signed_in(admin)
    for tenant in ("common", "organizations", "example.onmicrosoft.com"):
        form = testapp.get(f"/c/{company.id}/settings/sso",
                           {"provider": "azure", "protocol": "oidc"}).forms["connection-form"]
        form["tenant_id"], form["client_id"], form["client_secret"] = tenant, "c", "s"
        form.submit(status=400)
    assert count(dbsession, SsoConnection) == 0


def test_a_matching_email_with_another_oid_never_signs_in_as_the_existing_user(
        dbsession, visitor, anna, entra):
    """nOAuth: someone sets their e-mail to Anna's; Entra does not vouch for it."""
    entra.add_user(azure_user(AZURE_TENANT, MALLORY_OID, EMAIL, "Mallory"), key="mallory")
    entra.next_user = "mallory"
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "link-unverified")
    assert count(dbsession, SsoLink) == 0


def test_a_matching_email_with_another_oid_does_not_take_over_a_linked_account(
        app, dbsession, visitor, anna, entra):
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)
    entra.add_user(azure_user(AZURE_TENANT, MALLORY_OID, EMAIL, "Mallory"), key="mallory")
    entra.next_user = "mallory"
    assert_refused(dbsession, sso_sign_in(browser(app), EMAIL, status=403), "link-unverified",
                   sessions_before=1)
    dbsession.expire_all()
    assert [link.subject for link in dbsession.scalars(select(SsoLink))] == [
        f"{AZURE_TENANT}:{ANNA_OID}"]


def test_a_vouched_email_with_another_oid_does_not_take_over_a_linked_account(
        app, dbsession, visitor, anna, entra):
    """Even when Entra vouches for the e-mail, an account linked to one person at the
    identity provider is never linked to a second one."""
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)
    entra.add_user(azure_user(AZURE_TENANT, MALLORY_OID, EMAIL, "Mallory", xms_edov=True),
                   key="mallory")
    entra.next_user = "mallory"
    assert_refused(dbsession, sso_sign_in(browser(app), EMAIL, status=403), "already-linked",
                   sessions_before=1)
    assert count(dbsession, SsoLink) == 1


@pytest.mark.parametrize("claim", ["preferred_username", "upn", "unique_name"])
def test_upn_and_preferred_username_are_never_a_key(dbsession, visitor, anna, entra, claim):
    entra.add_user(azure_user(AZURE_TENANT, MALLORY_OID, "mallory@evil.example", "Mallory",
                              xms_edov=True, **{claim: EMAIL}), key="mallory")
    entra.next_user = "mallory"
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "no-account")


def test_the_oid_keeps_the_person_when_their_email_changes(app, dbsession, visitor, anna, entra):
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)
    entra.users[EMAIL]["email"] = "anna.berg@example.se"
    sso_sign_in(browser(app), EMAIL, status=303)
    dbsession.expire_all()
    assert {s.user_id for s in dbsession.scalars(select(SsoLink))} == {anna.id}
    assert session_count(dbsession) == 2


def test_without_xms_edov_the_email_links_no_existing_account(dbsession, visitor, anna, entra):
    del entra.users[EMAIL]["xms_edov"]
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "link-unverified")


def test_without_xms_edov_no_account_is_created(app, dbsession, visitor, company, entra):
    dbsession.execute(SsoConnection.__table__.update().values(jit_enabled=True))
    dbsession.commit()
    entra.add_user(azure_user(AZURE_TENANT, MALLORY_OID, "new@example.se"), key="new")
    entra.next_user = "new"
    assert_refused(dbsession, sso_sign_in(visitor, "new@example.se", status=403), "no-account")
    assert count(dbsession, User) == 0
    entra.users["new"]["xms_edov"] = True  # the tenant vouches: now it may
    sso_sign_in(browser(app), "new@example.se", status=303)
    assert count(dbsession, User) == 1


# -- groups ----------------------------------------------------------------------------------

@pytest.fixture
def finance(dbsession, company, entra):
    group = Group(company_id=company.id, name="Finance")
    dbsession.add(group)
    dbsession.flush()
    connection = dbsession.scalars(select(SsoConnection)).one()
    dbsession.add(SsoGroupMapping(connection_id=connection.id, idp_group=FINANCE, group_id=group.id))
    dbsession.commit()
    return group


def members(dbsession, group) -> set[int]:
    dbsession.expire_all()
    return set(dbsession.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id)))


def warning(dbsession) -> dict | None:
    dbsession.expire_all()
    return dbsession.scalars(select(SsoConnection.groups_skipped)).one()


def test_groups_are_object_ids_added_and_removed_at_every_sign_in(app, dbsession, visitor, anna,
                                                                  entra, finance):
    entra.users[EMAIL]["groups"] = [FINANCE, SALES]
    sso_sign_in(visitor, EMAIL, status=303)
    assert members(dbsession, finance) == {anna.id}
    entra.users[EMAIL]["groups"] = [SALES]
    sso_sign_in(browser(app), EMAIL, status=303)
    assert members(dbsession, finance) == set()


def test_group_overage_without_graph_is_skipped_with_a_warning(app, testapp, factory, dbsession,
                                                               company, visitor, anna, entra,
                                                               finance, signed_in):
    entra.users[EMAIL]["groups"] = [FINANCE]
    sso_sign_in(visitor, EMAIL, status=303)
    entra.misbehave(groups_overage=True)
    sso_sign_in(browser(app), EMAIL, status=303)
    # not "member of no group": Anna keeps Finance, and the admins are told
    assert members(dbsession, finance) == {anna.id}
    assert warning(dbsession)["email"] == EMAIL
    # stored as a message, so each admin reads it in their own language, whatever Anna's
    anna.locale = "fi"
    dbsession.commit()
    sso_sign_in(browser(app), EMAIL, status=303)
    for locale, expected in (("sv", "Microsoft Graph är inte inställt"),
                             ("en", "Microsoft Graph is not set up")):
        admin = factory.user(f"admin-{locale}@example.se", company=company, role="admin",
                             locale=locale)
        testapp.reset()
        signed_in(admin)
        shown = testapp.get(f"/c/{company.id}/settings/sso").html.find(id="groups-warning").text
        assert expected in shown and EMAIL in shown


def test_group_overage_is_read_from_graph(app, dbsession, visitor, anna, entra, finance):
    dbsession.execute(SsoConnection.__table__.update().values(
        settings={"tenant_id": AZURE_TENANT, "client_id": entra.client_id,
                  "authority": entra.base_url, "graph_url": entra.base_url}))
    dbsession.commit()
    entra.users[EMAIL]["groups"] = [SALES, FINANCE]
    entra.graph_page_size = 1  # three pages: a directory role, then the two groups
    entra.misbehave(groups_overage=True)
    sso_sign_in(visitor, EMAIL, status=303)
    assert members(dbsession, finance) == {anna.id}
    assert entra.hits["graph"] == 3
    assert warning(dbsession) is None
    entra.users[EMAIL]["groups"] = [SALES]  # and removed through Graph as well
    sso_sign_in(browser(app), EMAIL, status=303)
    assert members(dbsession, finance) == set()
    assert rejections(dbsession) == []
