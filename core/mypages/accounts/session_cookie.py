"""The session cookie's factory: Pyramid's signed cookie session, remembering the cookies
whose signature it has checked.

A signed-in browser sends the same cookie on every page until the session changes, and
checking its signature (base64, HMAC-SHA512) costs a page more than reading it from a dict.
The payload of each cookie that passed the check is remembered by the cookie's exact bytes,
in a bounded store; a cookie that fails the check is never remembered, so it is checked
again each time. The payload is decoded from JSON on every request, so no request can
change what the next one reads (Pyramid's session keeps flash messages in lists it
appends to).

The cookie is the one ``SignedCookieSessionFactory`` writes (same salt, hash and JSON), so
sessions survive the change of factory. The session cookie holds no rights of its own:
every request still reads its server-side session by the token's digest (:mod:`mypages.accounts`).
"""
from __future__ import annotations

from functools import lru_cache

from pyramid.session import BaseCookieSessionFactory, JSONSerializer
from webob.cookies import SignedSerializer

#: Pyramid's ``SignedCookieSessionFactory`` defaults, which the cookies in use were signed with
SALT = "pyramid.session."
HASH = "sha512"
#: signed cookies remembered per process: more than one process serves at once
REMEMBERED = 2048


class _Unchanged:
    """Bytes in, bytes out: the signed serializer's payload left for JSON to decode."""

    @staticmethod
    def loads(payload: bytes) -> bytes:
        return payload

    @staticmethod
    def dumps(payload: bytes) -> bytes:
        return payload


class RememberingSignedSerializer:
    """``SignedSerializer(secret, salt, hash, serializer)``, with the payload of every cookie
    whose signature passed remembered by the cookie's bytes (``remembered`` of them at most,
    the least recently used forgotten first)."""

    def __init__(self, secret: str, salt: str, hashalg: str, serializer, remembered: int):
        self._signed = SignedSerializer(secret, salt, hashalg, serializer=_Unchanged())
        self._serializer = serializer
        # lru_cache keeps no answer for a call that raised: a bad signature is checked anew
        self._payload_of = lru_cache(maxsize=remembered)(self._signed.loads)

    def loads(self, cookie: bytes):
        return self._serializer.loads(self._payload_of(cookie))

    def dumps(self, appstruct) -> bytes:
        return self._signed.dumps(self._serializer.dumps(appstruct))


def session_factory(secret: str, cookie_name: str, secure: bool):
    """The session factory of the portal: an HttpOnly, SameSite=Lax cookie that never
    expires by itself (sessions end on the server, :func:`mypages.accounts.check_session`)."""
    return BaseCookieSessionFactory(
        RememberingSignedSerializer(secret, SALT, HASH, JSONSerializer(), REMEMBERED),
        cookie_name=cookie_name, secure=secure, httponly=True, samesite="Lax",
        timeout=None, reissue_time=None)
