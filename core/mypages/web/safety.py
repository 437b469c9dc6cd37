"""Redirect targets that cannot leave the site."""
from __future__ import annotations

from urllib.parse import urlsplit

#: no page of the site has a longer address; it is also the longest that is stored
NEXT_MAX_LENGTH = 500


def safe_next(value: str | None, default: str = "/") -> str:
    """Return ``value`` if it is a path on this site, else ``default``.

    Refuses absolute and scheme-relative URLs (``//evil``, ``/\\evil``),
    anything with a scheme or host, control characters, and addresses longer than
    :data:`NEXT_MAX_LENGTH`.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if len(value) > NEXT_MAX_LENGTH:
        return default
    if any(ord(ch) < 32 for ch in value) or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
