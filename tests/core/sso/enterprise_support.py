"""Helpers of the enterprise Single Sign On tests: the admin's way through the Single Sign On
tab, and sign-ins through a real OpenID Connect provider (the pyop fake) over HTTP on
loopback, offered to the app by a provider plugin of the test's own."""
from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from contextlib import contextmanager
from wsgiref.simple_server import make_server

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.audit.models import AuditEvent
from mypages.contract import FederatedIdentity, LoginMethod, SsoProvider, SsoSetting
from mypages.db import utcnow
from mypages.i18n import _
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.sso.connections import connection_of
from mypages.sso.models import SsoConnection, VerifiedDomain
from mypages.testing.plugin import CSRF_PATTERN
from mypages.testing.servers import QuietHandler
from mypages.testing.web import sign_in_at_once

# the tests read the pages in English
ENVIRON = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost", "HTTP_ACCEPT_LANGUAGE": "en"}


class FakeIdP(SsoProvider):
    """An identity provider of the test's own; its issuer URL is whatever the admin types."""

    key = "fakeidp"
    title = "Fake IdP"
    protocols = ("oidc",)

    def settings(self):
        return [SsoSetting("issuer", "Issuer"), SsoSetting("client_id", "Client id"),
                SsoSetting("client_secret", "Client secret", secret=True)]

    def discovery_url(self, values):
        return values["issuer"].rstrip("/") + "/.well-known/openid-configuration"

    def identity(self, values, claims, userinfo, protocol):
        overage = "groups" in (claims.get("_claim_names") or {})
        return FederatedIdentity(
            subject=claims["sub"], email=claims.get("email"),
            email_verified=claims.get("email_verified") is True, name=claims.get("name", ""),
            groups=None if overage else tuple(claims.get("groups", ())),
            groups_warning=_("You are in too many groups for the token to list.") if overage
            else None)


def install_provider(app, provider: SsoProvider | None = None) -> SsoProvider:
    """Offer ``provider`` on ``app`` as a plugin's ``mypages_sso_providers`` would."""
    provider = provider or FakeIdP()
    app.registry["sso.providers"][provider.key] = provider
    app.registry["accounts.login_methods"][f"sso:{provider.key}"] = LoginMethod(
        f"sso:{provider.key}", provider.title, is_mfa=True, is_local=False)
    return provider


def uninstall_provider(app, key: str = FakeIdP.key) -> None:
    app.registry["sso.providers"].pop(key, None)
    app.registry["accounts.login_methods"].pop(f"sso:{key}", None)


@pytest.fixture
def fake_idp(app):
    provider = install_provider(app)
    yield provider
    uninstall_provider(app)


@contextmanager
def serve(wsgi_app):
    """Serve ``wsgi_app`` over real HTTP on loopback; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class DiscoveryOnly:
    """An identity provider as far as the first redirect needs it: its discovery document.

    Identifier-first routing ends at the provider's authorization endpoint; what
    happens there and after has the OIDC tests of its own.
    """

    def __init__(self):
        self.base_url = ""
        self.hits = 0

    def document(self) -> dict:
        return {"issuer": self.base_url, "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": f"{self.base_url}/token", "jwks_uri": f"{self.base_url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] != "/.well-known/openid-configuration":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        self.hits += 1
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(self.document()).encode()]


@pytest.fixture
def discovery_idp():
    from mypages.sso import oidc

    idp = DiscoveryOnly()
    with serve(idp) as base_url:
        idp.base_url = base_url
        yield idp
    oidc.clear_caches()


def set_module(dbsession, company, state=ModuleState.trial, ends_in=dt.timedelta(days=10)):
    """The company's Single Sign On module in ``state`` (a trial ends ``ends_in`` from now)."""
    now = utcnow()
    row = dbsession.scalars(select(ModuleActivation).where(
        ModuleActivation.company_id == company.id, ModuleActivation.module_key == "sso")
    ).one_or_none() or ModuleActivation(company_id=company.id, module_key="sso",
                                        trial_started_at=now - dt.timedelta(days=10) + ends_in)
    row.state = state
    row.trial_ends_at = now + ends_in
    row.updated_at = now
    dbsession.add(row)
    dbsession.commit()
    return row


def browser(app) -> TestApp:
    testapp = TestApp(app, extra_environ=dict(ENVIRON))
    testapp.set_cookie("mypages_locale", "en")
    return testapp


def sign_in_with_password(testapp, email, password, status=303):
    """The address and the password at once (as a password manager sends them): the password
    path, even at a domain whose Single Sign On would take the address alone."""
    return sign_in_at_once(testapp, email, password, status=status)


# -- the Single Sign On tab ----------------------------------------------------------

def tab_path(company) -> str:
    return f"/c/{company.id}/settings/sso"


def csrf(testapp, company) -> str:
    return CSRF_PATTERN.search(testapp.get(f"/c/{company.id}/").text).group(1)


def activate_sso(testapp, company, action="activate"):
    testapp.post(f"/c/{company.id}/settings/modules/sso/{action}",
                 {"csrf_token": csrf(testapp, company)}, status=303)


@pytest.fixture
def dns_admin(dns_app, factory):
    """(browser, company): an admin of a company with the Single Sign On trial, signed in on
    the app that resolves DNS through the tests' own server."""
    company = factory.company("Example AB")
    admin = factory.user("admin@example.se", company=company, role="admin")
    testapp = browser(dns_app)
    sign_in_with_password(testapp, admin.email, factory.password)
    activate_sso(testapp, company)
    return testapp, company


def act(testapp, company, action, status=303, **fields):
    """POST one of the tab's actions as its form does."""
    return testapp.post(f"{tab_path(company)}/{action}",
                        {"csrf_token": csrf(testapp, company), **fields}, status=status)


def save_connection(testapp, company, issuer="https://idp.example.test", client_id="client-1",
                    client_secret="s3cret-value", provider=FakeIdP.key, status=303):
    form = testapp.get(tab_path(company), {"provider": provider, "protocol": "oidc"}
                       ).forms["connection-form"]
    form["issuer"], form["client_id"], form["client_secret"] = issuer, client_id, client_secret
    return form.submit(status=status)


def messages(page) -> list[str]:
    found = page.html.select(".notice, .error, [role=alert], [role=status]")
    return [" ".join(element.text.split()) for element in found]


def add_verified_domain(dbsession, company, domain: str, verified: bool = True) -> VerifiedDomain:
    """A domain row as DNS verification leaves it (the DNS proof has tests of its own)."""
    row = VerifiedDomain(company_id=company.id, domain=domain, token=secrets.token_urlsafe(24),
                         verified_at=utcnow() if verified else None)
    dbsession.add(row)
    dbsession.commit()
    return row


def add_connection(dbsession, company, provider=FakeIdP.key, **values) -> SsoConnection:
    row = SsoConnection(company_id=company.id, provider=provider, protocol="oidc",
                        settings={"issuer": "https://idp.example.test", "client_id": "client-1",
                                  **values})
    dbsession.add(row)
    dbsession.commit()
    return row


def connection(dbsession, company) -> SsoConnection | None:
    dbsession.expire_all()
    return connection_of(dbsession, company.id)


def audit_actions(dbsession, company=None, prefix: str = "") -> list[str]:
    dbsession.expire_all()
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if company is not None:
        query = query.where(AuditEvent.company_id == company.id)
    return [a for a in dbsession.scalars(query) if a.startswith(prefix)]


def audit_events(dbsession, action: str) -> list[AuditEvent]:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent).where(AuditEvent.action == action)
                             .order_by(AuditEvent.id)).all()




# -- signing in through a real OpenID Connect provider -----------------------------------

class _Late:
    """A WSGI app whose target is set once the server's address is known."""

    target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


@pytest.fixture
def oidc_idp():
    """A Google-style OpenID Connect provider (pyop) on loopback; add people with
    ``oidc_idp.add_user(google_user(...), key)`` and pick who signs in with ``next_user``."""
    from mypages.sso import oidc
    from mypages_devtools.fakes.oidc_provider import FakeOidcProvider

    late = _Late()
    with serve(late) as base_url:
        late.target = FakeOidcProvider(base_url, style="google")
        yield late.target
    oidc.clear_caches()


def add_person(idp, key: str, email: str | None, *, verified: bool = True, groups=None,
               name: str = "", **claims) -> dict:
    """A person at the provider, known there as ``key``; their subject is ``sub-<key>``."""
    from mypages_devtools.fakes.oidc_provider import google_user

    if groups is not None:
        claims["groups"] = list(groups)
    person = google_user(f"sub-{key}", email or "", name=name, email_verified=verified, **claims)
    if email is None:
        del person["email"]
    idp.add_user(person, key)
    return person


def connect(app, dbsession, company, idp, *, jit: bool = False) -> SsoConnection:
    """The company's connection to ``idp``, as the tab saves it."""
    from mypages.sso.connections import store_secrets

    row = SsoConnection(company_id=company.id, provider=FakeIdP.key, protocol="oidc",
                        settings={"issuer": idp.base_url, "client_id": idp.client_id},
                        jit_enabled=jit)
    store_secrets(app.registry, row, {"client_secret": "mypages-secret"})
    dbsession.add(row)
    dbsession.commit()
    return row


def through_provider(testapp, idp, response, as_user: str | None = None, status="*"):
    """Follow ``response`` (the app's redirect to ``idp``) as a browser: the provider signs
    ``as_user`` in at once and sends the browser back to the app's callback."""
    import httpx
    from urllib.parse import urlsplit

    assert response.status_int == 303 and response.location.startswith(idp.base_url), \
        response.location if response.status_int == 303 else response.text
    idp.next_user = as_user
    try:
        answer = httpx.get(response.location, follow_redirects=False, timeout=10)
    finally:
        idp.next_user = None
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return testapp.get(f"{back.path}?{back.query}", status=status)


def sso_sign_in(testapp, idp, as_user: str, start_email: str | None = None, status="*"):
    """Identifier-first sign-in: type ``start_email`` (default: the person's address at the
    provider), come back as ``as_user`` (the key the person was added to ``idp`` under)."""
    start_email = start_email or idp.users[as_user].get("email")
    start = testapp.get("/sso/start", {"email": start_email}, status=303)
    return through_provider(testapp, idp, start, as_user, status=status)


def try_connection(testapp, company, idp, as_user: str, status="*"):
    """An admin's "Test the connection" on the tab."""
    start = act(testapp, company, "test")
    return through_provider(testapp, idp, start, as_user, status=status)


def refusal(page) -> str | None:
    """The reason an error page shows (``data-reason``), e.g. ``sso-no-account``."""
    found = page.html.find(attrs={"data-reason": True})
    return found["data-reason"] if found else None
