"""The session cookie: Pyramid's signed cookie, with the payload of a cookie whose signature
passed remembered, and never a cookie that failed."""
from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from webob.cookies import SignedSerializer
from webtest import TestApp

from mypages.accounts.session_cookie import (
    HASH, SALT, RememberingSignedSerializer, session_factory)

SECRET = "a test secret that is long enough to sign with"


def cookie_of(factory, state: dict) -> str:
    """The cookie ``factory`` sets for a session holding ``state``."""
    def view(request):
        request.session.update(state)
        return Response()

    with Configurator() as config:
        config.set_session_factory(factory)
        config.add_route("set", "/")
        config.add_view(view, route_name="set")
    response = TestApp(config.make_wsgi_app()).get("/")
    name, _, rest = response.headers["Set-Cookie"].partition("=")
    assert name == "mypages_session"
    return rest.split(";", 1)[0]


def session_from(factory, cookie: str):
    return factory(Request.blank("/", headers={"Cookie": f"mypages_session={cookie}"}))


class CountingSignedSerializer(SignedSerializer):
    checked = 0

    def loads(self, bstruct):
        CountingSignedSerializer.checked += 1
        return super().loads(bstruct)


@pytest.fixture
def counting(monkeypatch):
    monkeypatch.setattr("mypages.accounts.session_cookie.SignedSerializer",
                        CountingSignedSerializer)
    CountingSignedSerializer.checked = 0
    return RememberingSignedSerializer(SECRET, SALT, HASH, JSONSerializer(), remembered=2)


def test_a_cookie_of_pyramids_signed_factory_is_read_so_sessions_survive_the_change():
    before = SignedCookieSessionFactory(SECRET, cookie_name="mypages_session",
                                        serializer=JSONSerializer())
    cookie = cookie_of(before, {"auth": "token", "_csrft_": "csrf"})
    session = session_from(session_factory(SECRET, "mypages_session", secure=False), cookie)
    assert not session.new
    assert dict(session) == {"auth": "token", "_csrft_": "csrf"}
    # and the other way round, should the change be rolled back
    ours = cookie_of(session_factory(SECRET, "mypages_session", secure=False), {"auth": "t"})
    assert dict(session_from(before, ours)) == {"auth": "t"}


def test_a_cookie_is_checked_once_and_read_again_from_memory(counting):
    cookie = counting.dumps([1.0, 1.0, {"auth": "token"}])
    assert counting.loads(cookie) == [1.0, 1.0, {"auth": "token"}]
    assert counting.loads(cookie) == [1.0, 1.0, {"auth": "token"}]
    assert CountingSignedSerializer.checked == 1


def test_a_cookie_that_fails_its_check_is_checked_every_time(counting):
    cookie = counting.dumps([1.0, 1.0, {"auth": "token"}])
    forged = cookie[:-4] + (b"AAAA" if not cookie.endswith(b"AAAA") else b"BBBB")
    for _ in range(2):
        with pytest.raises(ValueError):
            counting.loads(forged)
    assert CountingSignedSerializer.checked == 2
    other_secret = RememberingSignedSerializer("another secret, long enough as well", SALT,
                                               HASH, JSONSerializer(), remembered=2)
    with pytest.raises(ValueError):
        other_secret.loads(cookie)


def test_the_memory_is_bounded(counting):
    cookies = [counting.dumps([1.0, 1.0, {"n": n}]) for n in range(3)]
    for cookie in cookies:
        counting.loads(cookie)
    counting.loads(cookies[0])  # the oldest of three was forgotten: two are remembered
    assert CountingSignedSerializer.checked == 4


def test_no_request_changes_what_the_next_one_reads():
    factory = session_factory(SECRET, "mypages_session", secure=False)
    cookie = cookie_of(factory, {"_f_": ["first"]})
    session = session_from(factory, cookie)
    session.flash("second")  # Pyramid appends to the list it read
    assert session_from(factory, cookie).peek_flash() == ["first"]
