"""pytest fixtures and helpers for SAML sign-ins: the fake SAML identity provider
(pysaml2) served over real HTTP on loopback.

``saml_idp`` is the fake (:class:`mypages_devtools.fakes.saml_idp.FakeSamlIdp`), reset for
each test: its signing key lives as long as the test session, so metadata the
application cached stays true. Make it misbehave with ``saml_idp.misbehave(...)``.
"""
from __future__ import annotations

import threading
from html.parser import HTMLParser
from wsgiref.simple_server import make_server

import httpx
import pytest

from mypages.testing.servers import QuietHandler, ThreadingWsgiServer

HOST = "127.0.0.1"


class WsgiServer:
    """A WSGI application served over HTTP on loopback, on a free port, in a thread."""

    def __init__(self, wsgi_app=None):
        self.app = wsgi_app
        self._server = make_server(HOST, 0, self._dispatch, server_class=ThreadingWsgiServer,
                                   handler_class=QuietHandler)
        self.url = f"http://{HOST}:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    def _dispatch(self, environ, start_response):
        # the application may be built after the port is known (it needs its own URL)
        return self.app(environ, start_response)

    def start(self) -> "WsgiServer":
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def post_form(page: str) -> tuple[str, dict]:
    """The action and fields of the form an identity provider's page posts (what its
    auto-submitting script would send)."""
    reader = _FormReader()
    reader.feed(page)
    if not reader.action:
        raise AssertionError(f"no form on the identity provider's page:\n{page[:500]}")
    return reader.action, reader.fields


def idp_answer(location: str) -> tuple[str, dict]:
    """Follow a redirect to the identity provider over HTTP; its answer as the browser
    would post it: (ACS URL, fields)."""
    answer = httpx.get(location, timeout=30)
    answer.raise_for_status()
    return post_form(answer.text)


@pytest.fixture(scope="session")
def saml_idp_server():
    """The fake SAML identity provider over HTTP for the whole session."""
    from mypages_devtools.fakes.saml_idp import FakeSamlIdp  # pysaml2, of mypages-devtools

    server = WsgiServer()
    server.app = FakeSamlIdp(server.url)
    server.start()
    yield server
    server.stop()
    server.app.close()


@pytest.fixture
def saml_idp(saml_idp_server):
    """The fake SAML identity provider (served over HTTP), behaving and signing in its
    default user unless the test says otherwise."""
    from mypages_devtools.fakes.saml_idp import SamlUser  # pysaml2, of mypages-devtools

    fake = saml_idp_server.app
    fake.reset()
    fake.user = SamlUser()
    yield fake
    fake.reset()
