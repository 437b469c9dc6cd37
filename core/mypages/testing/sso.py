"""Single Sign On in tests: identity providers served over real HTTP on loopback.

``fake_oidc(style="azure" | "google", **options)`` starts a
:class:`~mypages_devtools.fakes.oidc_provider.FakeOidcProvider` on 127.0.0.1 and a
free port, registered for the app's redirect URI; ``azure_idp`` and
``google_idp`` are ready-made ones. ``through_idp(testapp, response)`` plays the
browser: it follows the app's redirect to the provider, and the provider's
redirect back to the app's callback, and returns the app's answer.
"""
from __future__ import annotations

import datetime as dt
import secrets
import threading
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIServer, make_server

import httpx
import pytest

from mypages.db import utcnow
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import settings_of
from mypages.sso import oidc
from mypages.sso.connections import store_secrets
from mypages.sso.models import SsoConnection, VerifiedDomain
from mypages.testing.servers import QuietHandler

HOST = "127.0.0.1"
AZURE_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "fake-client-secret-value"


class LiveServer:
    """A WSGI application on a real socket, in a thread of its own. ``make_app(base_url)``
    builds the application once the port is known."""

    def __init__(self, make_app):
        self.server: WSGIServer = make_server(HOST, 0, lambda e, s: [], handler_class=QuietHandler)
        self.base_url = f"http://{HOST}:{self.server.server_port}"
        self.app = make_app(self.base_url)
        self.app.live_server = self  # a test may take it down
        self.server.set_app(self.app)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(5)
        self.server.server_close()


@pytest.fixture
def fake_oidc(app):
    """``fake_oidc(style, **options)``: a fake OpenID provider over HTTP; the app's discovery
    and key caches start empty."""
    from mypages_devtools.fakes.oidc_provider import FakeOidcProvider  # pyop, of mypages-devtools

    servers = []
    callback = settings_of(app.registry).url("/sso/oidc/callback")

    def start(style: str = "azure", **options):
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_secret", CLIENT_SECRET)
        options.setdefault("redirect_uris", (callback,))
        if style == "azure":
            options.setdefault("tenant_id", AZURE_TENANT)
        server = LiveServer(lambda base_url: FakeOidcProvider(base_url, style=style, **options))
        servers.append(server.start())
        return server.app

    oidc.clear_caches()
    yield start
    for server in servers:
        server.stop()
    oidc.clear_caches()


@pytest.fixture
def azure_idp(fake_oidc):
    """An Entra ID-like provider for tenant ``AZURE_TENANT``, client secret sent in the body."""
    return fake_oidc("azure", token_endpoint_auth_method="client_secret_post")


@pytest.fixture
def google_idp(fake_oidc):
    """A Google-like provider (client secret sent with HTTP Basic)."""
    return fake_oidc("google", token_endpoint_auth_method="client_secret_basic")


def through_idp(testapp, response, status=None):
    """Follow ``response`` (the app's redirect to the identity provider) through the
    provider and back to the app's callback; the app's answer to the callback."""
    assert response.status_int in (302, 303), response.status
    answer = httpx.get(response.location, follow_redirects=False)
    assert answer.status_code == 302, (answer.status_code, answer.text)
    back = urlsplit(answer.headers["location"])
    return testapp.get(back.path + ("?" + back.query if back.query else ""), status=status)


def idp_redirect(response) -> str:
    """The provider's answer to the authorization request: the URL it sends the browser to."""
    answer = httpx.get(response.location, follow_redirects=False)
    assert answer.status_code == 302, (answer.status_code, answer.text)
    return answer.headers["location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


# -- the company's side ----------------------------------------------------------------

def enable_sso_module(dbsession, company, days: int = 10):
    """The company's "Single Sign On" module on a trial ending in ``days``."""
    now = utcnow()
    row = ModuleActivation(company_id=company.id, module_key="sso", state=ModuleState.trial,
                           trial_started_at=now, trial_ends_at=now + dt.timedelta(days=days),
                           updated_at=now)
    dbsession.add(row)
    dbsession.commit()
    return row


def add_verified_domains(dbsession, company, *domains: str) -> None:
    """Domains as DNS verification leaves them (the DNS proof has tests of its own)."""
    for domain in domains:
        dbsession.add(VerifiedDomain(company_id=company.id, domain=domain,
                                     token=secrets.token_urlsafe(24), verified_at=utcnow()))
    dbsession.commit()


@pytest.fixture
def example_company(factory, dbsession):
    """Example AB: the Single Sign On module on trial and example.se verified."""
    company = factory.company("Example AB")
    enable_sso_module(dbsession, company)
    add_verified_domains(dbsession, company, "example.se")
    return company


def connect(app, dbsession, company, provider: str, settings: dict, secrets: dict | None = None,
            protocol: str = "oidc", **columns):
    """A saved connection, its secrets encrypted as the tab stores them."""
    row = SsoConnection(company_id=company.id, provider=provider, protocol=protocol,
                        settings=dict(settings), **columns)
    store_secrets(app.registry, row, secrets or {})
    dbsession.add(row)
    dbsession.commit()
    return row


def azure_values(idp, **changes) -> tuple[dict, dict]:
    """(settings, secrets) of a connection to the Entra ID-like ``idp``."""
    settings = {"tenant_id": idp.tenant_id, "client_id": idp.client_id,
                "authority": idp.base_url, **changes}
    return settings, {"client_secret": CLIENT_SECRET}


def google_values(idp, **changes) -> tuple[dict, dict]:
    settings = {"client_id": idp.client_id, "discovery_url": idp.discovery_url, **changes}
    return settings, {"client_secret": CLIENT_SECRET}


def start_sign_in(testapp, email: str, status: int = 303):
    """Identifier-first: the e-mail alone on the login form; the app's redirect."""
    form = testapp.get("/login").forms["login-form"]
    form["email"] = email
    return form.submit(status=status)


def sso_sign_in(testapp, email: str, status=None):
    """A whole sign-in through the company's identity provider; the app's last answer."""
    return through_idp(testapp, start_sign_in(testapp, email), status=status)
