"""Google specifics (identity-security.md): people keyed on ``sub``; an answer counts only
with ``email_verified`` and an ``hd`` claim naming a domain the company verified. The ``hd``
request parameter is a hint to Google's account chooser, never a check."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from mypages.sso.models import SsoLink
from mypages.testing.sso import start_sign_in, sso_sign_in, through_idp
from tests.security.oidc_support import (ANNA_SUB, anna, assert_refused,  # noqa: F401
                                         assert_signed_in, company, google, session_count,
                                         visitor)
from tests.security.support import browser

EMAIL = "anna@example.se"


def test_the_hd_request_parameter_is_only_a_hint(dbsession, visitor, anna, google):
    """Asked for example.se, answered by a consumer account without hd: refused."""
    del google.users[EMAIL]["hd"]
    to_google = start_sign_in(visitor, EMAIL)
    assert parse_qs(urlsplit(to_google.location).query)["hd"] == ["example.se"]
    assert_refused(dbsession, through_idp(visitor, to_google, status=403), "hd-mismatch")


def test_another_workspace_domain_is_refused(dbsession, visitor, anna, google):
    google.users[EMAIL]["hd"] = "example.com"
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "hd-mismatch")


def test_a_domain_claimed_but_not_verified_is_refused(dbsession, visitor, anna, company, google):
    from mypages.sso.models import VerifiedDomain

    dbsession.add(VerifiedDomain(company_id=company.id, domain="example.org", token="t"))
    dbsession.commit()
    google.users[EMAIL]["hd"] = "example.org"
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "hd-mismatch")


def test_an_unverified_email_is_refused(dbsession, visitor, anna, google):
    google.users[EMAIL]["email_verified"] = False
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "email-unverified")


def test_a_verified_email_at_a_verified_hd_signs_in(dbsession, visitor, anna, google):
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)


def test_people_are_keyed_on_sub(app, dbsession, visitor, anna, google):
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)
    google.users[EMAIL]["email"] = "anna.berg@example.se"  # renamed at Google: still Anna
    sso_sign_in(browser(app), EMAIL, status=303)
    dbsession.expire_all()
    assert [(link.subject, link.user_id) for link in dbsession.scalars(select(SsoLink))] == [
        (ANNA_SUB, anna.id)]
    assert session_count(dbsession) == 2


def test_google_issuer_spelling_is_accepted_only_from_google(dbsession, visitor, anna, google):
    """"accounts.google.com" without https is Google's own; from any other provider it is
    just a wrong issuer."""
    google.misbehave(claims={"iss": "accounts.google.com"})
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), "invalid-iss")
