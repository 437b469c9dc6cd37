"""The "known device" cookie: accounts that have signed in on this browser before.

Failures on an account do not slow down a browser the account's owner has
used, so guessing passwords elsewhere cannot lock the owner out.
"""
from __future__ import annotations

from webob.cookies import SignedCookieProfile

from mypages.services import settings_of

COOKIE = "mypages_device"
MAX_ACCOUNTS = 10


def _profile(request) -> SignedCookieProfile:
    settings = settings_of(request)
    profile = SignedCookieProfile(settings.secret, "mypages.device", COOKIE,
                                  secure=settings.session_secure, httponly=True,
                                  samesite=b"Lax", max_age=365 * 24 * 3600)
    return profile.bind(request)


def known_user_ids(request) -> list[int]:
    try:
        value = _profile(request).get_value()
    except ValueError:
        return []
    return [int(x) for x in value] if isinstance(value, list) else []


def remember_device(request, user_id: int) -> None:
    ids = [user_id] + [x for x in known_user_ids(request) if x != user_id]
    headers = _profile(request).get_headers(ids[:MAX_ACCOUNTS])

    def set_cookie(request, response):
        for name, value in headers:
            response.headers.add(name, value)

    request.add_response_callback(set_cookie)
