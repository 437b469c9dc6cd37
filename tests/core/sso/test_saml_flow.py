"""A whole SAML sign-in over real HTTP: the application served on loopback, the fake
SAML identity provider (pysaml2) on loopback, and a browser that is an HTTP client
with a cookie jar.

The admin connects the company through the Single Sign On tab with the IdP's metadata
URL; the IdP fetches our SP metadata from our entity id, as IdPs that import metadata
by URL do; a person is sent to the IdP by identifier-first sign-in, and the IdP's
signed answer, posted to our ACS, signs them in with ``sso:saml``.
"""
from __future__ import annotations

import httpx
import pytest
from lxml import etree
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from sqlalchemy import select

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.sso.models import SsoConnection, SsoLink, VerifiedDomain
from mypages.testing.factories import DEFAULT_PASSWORD
from mypages.testing.plugin import CSRF_PATTERN
from mypages.testing.saml import WsgiServer, post_form

MD = "urn:oasis:names:tc:SAML:2.0:metadata"


@pytest.fixture
def live(app, change_settings):
    """The application over HTTP on loopback; its base URL is where it is served."""
    server = WsgiServer(app).start()
    change_settings(base_url=server.url)
    yield server.url
    server.stop()


class Browser:
    """An HTTP client with cookies that follows nothing by itself."""

    def __init__(self, base_url: str):
        self.client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)

    def get(self, url, **kw) -> httpx.Response:
        return self.client.get(url, **kw)

    def post_form(self, url, data: dict) -> httpx.Response:
        return self.client.post(url, data=data)

    def csrf(self, path: str) -> str:
        return CSRF_PATTERN.search(self.get(path).text).group(1)

    def sign_in(self, email: str) -> None:
        done = self.post_form("/login", {"csrf_token": self.csrf("/login"), "email": email,
                                         "password": DEFAULT_PASSWORD, "next": ""})
        assert done.status_code == 303, done.text[:1000]

    def close(self):
        self.client.close()


@pytest.fixture
def company_with_admin(factory, dbsession):
    company = factory.company("Exempel AB")
    admin = factory.user("admin@example.se", company=company, role="admin", locale="en")
    # the domain's DNS proof has tests of its own
    dbsession.add(VerifiedDomain(company_id=company.id, domain="example.se", token="t",
                                 verified_at=utcnow()))
    dbsession.commit()
    return company, admin


def connect(browser: Browser, company, metadata_url: str, **extra) -> httpx.Response:
    """What the admin does: activate the trial, choose "Other SAML", save the metadata URL."""
    base = f"/c/{company.id}/settings"
    activated = browser.post_form(f"{base}/modules/sso/activate",
                                  {"csrf_token": browser.csrf(f"{base}/modules")})
    assert activated.status_code == 303, activated.text[:1000]
    form_page = browser.get(f"{base}/sso", params={"provider": "saml", "protocol": "saml"})
    assert 'id="field-idp_metadata_url"' in form_page.text
    assert 'type="checkbox"' in form_page.text  # "verifies e-mail addresses", unticked
    token = CSRF_PATTERN.search(form_page.text).group(1)
    return browser.post_form(f"{base}/sso/save", {"csrf_token": token, "provider": "saml",
                                                  "protocol": "saml",
                                                  "idp_metadata_url": metadata_url, **extra})


def through_idp(browser: Browser, location: str) -> httpx.Response:
    """The browser at the IdP (real HTTP), then posting its answer to our ACS."""
    at_idp = httpx.get(location, timeout=30)
    assert at_idp.status_code == 200, at_idp.text[:1000]
    action, fields = post_form(at_idp.text)
    assert set(fields) == {"SAMLResponse", "RelayState"}
    return browser.post_form(action, fields)


def test_admin_connects_and_a_person_signs_in_over_saml(live, app, company_with_admin, saml_idp,
                                                        dbsession):
    company, admin = company_with_admin
    saml_idp.user.nameid = "admin-3b1f"
    saml_idp.user.attributes = {"mail": ["admin@example.se"], "displayName": ["Ada Admin"]}
    admin_browser = Browser(live)
    admin_browser.sign_in(admin.email)
    saved = connect(admin_browser, company, saml_idp.metadata_url, email_verified_by_idp="yes")
    assert saved.status_code == 303, saved.text[:2000]
    connection = dbsession.scalars(select(SsoConnection)).one()
    assert (connection.provider, connection.protocol) == ("saml", "saml")
    assert connection.settings == {"idp_metadata_url": saml_idp.metadata_url,
                                   "email_verified_by_idp": "yes"}
    page = admin_browser.get(f"/c/{company.id}/settings/sso").text
    assert f"{live}/sso/saml/{connection.id}/metadata" in page
    admin_browser.close()

    # a fresh browser: identifier-first sign-in sends it to the IdP
    browser = Browser(live)
    started = browser.get("/sso/start", params={"email": "admin@example.se"})
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith(saml_idp.sso_url + "?SAMLRequest=")
    done = through_idp(browser, location)
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"].endswith(f"/c/{company.id}/")

    dbsession.expire_all()
    # the admin's own password session, and the new one through SAML
    sessions = [s for s in dbsession.scalars(select(UserSession)) if "sso:saml" in s.amr]
    assert [s.user_id for s in sessions] == [admin.id]
    link = dbsession.scalars(select(SsoLink)).one()
    assert (link.subject, link.user_id) == ("admin-3b1f", admin.id)
    actions = dbsession.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "sso.account_linked" in actions and "sso.rejected" not in actions
    # signed in: the company's pages open
    assert browser.get(f"/c/{company.id}/").status_code == 200
    browser.close()


def test_admin_tests_the_connection(live, app, company_with_admin, saml_idp, dbsession):
    company, admin = company_with_admin
    saml_idp.user.attributes = {"mail": ["admin@example.se"]}
    browser = Browser(live)
    browser.sign_in(admin.email)
    assert connect(browser, company, saml_idp.metadata_url, email_verified_by_idp="yes").status_code == 303
    tested = browser.post_form(f"/c/{company.id}/settings/sso/test",
                               {"csrf_token": browser.csrf(f"/c/{company.id}/settings/sso")})
    assert tested.status_code == 303
    done = through_idp(browser, tested.headers["location"])
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"].endswith(f"/c/{company.id}/settings/sso")
    dbsession.expire_all()
    assert dbsession.scalars(select(SsoConnection)).one().admin_tested_at is not None
    browser.close()


def test_without_the_box_ticked_an_existing_account_is_not_linked(live, app, company_with_admin,
                                                                  saml_idp, dbsession):
    """Default: the IdP's e-mail is not trusted to take over an account of that address."""
    company, admin = company_with_admin
    saml_idp.user.attributes = {"mail": ["admin@example.se"]}
    browser = Browser(live)
    browser.sign_in(admin.email)
    assert connect(browser, company, saml_idp.metadata_url).status_code == 303
    fresh = Browser(live)
    refused = through_idp(fresh, fresh.get("/sso/start", params={"email": admin.email}).headers["location"])
    assert refused.status_code == 403
    assert 'data-reason="sso-link-unverified"' in refused.text
    dbsession.expire_all()
    assert dbsession.scalars(select(SsoLink)).all() == []
    browser.close()
    fresh.close()


def test_saving_refuses_metadata_that_cannot_be_fetched(live, app, company_with_admin, dbsession):
    company, admin = company_with_admin
    browser = Browser(live)
    browser.sign_in(admin.email)
    refused = connect(browser, company, "http://127.0.0.1:9/metadata")  # nothing listens there
    assert refused.status_code == 400
    assert "127.0.0.1 could not be reached." in refused.text
    assert dbsession.scalars(select(SsoConnection)).all() == []
    browser.close()


def test_sp_metadata_is_served_and_valid(live, app, company_with_admin, saml_idp, dbsession):
    company, admin = company_with_admin
    browser = Browser(live)
    browser.sign_in(admin.email)
    assert connect(browser, company, saml_idp.metadata_url).status_code == 303
    connection = dbsession.scalars(select(SsoConnection)).one()

    answer = httpx.get(f"{live}/sso/saml/{connection.id}/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
    # valid against the SAML metadata schema
    checker = OneLogin_Saml2_Settings({"sp": {"entityId": "urn:x", "assertionConsumerService": {
        "url": "https://x.example/acs"}}}, sp_validation_only=True)
    assert checker.validate_metadata(answer.content) == []
    root = etree.fromstring(answer.content)
    assert root.get("entityID") == f"{live}/sso/saml/{connection.id}/metadata"
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    assert descriptor.get("WantAssertionsSigned") == "true"
    acs = descriptor.find(f"{{{MD}}}AssertionConsumerService")
    assert acs.get("Location") == f"{live}/sso/saml/{connection.id}/acs"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert descriptor.findtext(f"{{{MD}}}NameIDFormat") == \
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    # and an independent implementation (pysaml2) reads it
    saml_idp.trust_sp(answer.content)
    assert saml_idp.server.metadata.assertion_consumer_service(root.get("entityID"))[0]["location"] == \
        f"{live}/sso/saml/{connection.id}/acs"

    assert httpx.get(f"{live}/sso/saml/999/metadata").status_code == 404
    browser.close()


def test_idp_metadata_is_fetched_once_and_cached(live, app, company_with_admin, saml_idp, dbsession):
    company, admin = company_with_admin
    saml_idp.user.attributes = {"mail": ["admin@example.se"]}
    browser = Browser(live)
    browser.sign_in(admin.email)
    assert connect(browser, company, saml_idp.metadata_url, email_verified_by_idp="yes").status_code == 303
    before = saml_idp.metadata_requests
    for _ in range(2):
        fresh = Browser(live)
        location = fresh.get("/sso/start", params={"email": admin.email}).headers["location"]
        assert through_idp(fresh, location).status_code == 303
        fresh.close()
    assert saml_idp.metadata_requests - before <= 1
    browser.close()
