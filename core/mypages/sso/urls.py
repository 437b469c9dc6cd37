"""Which addresses an identity provider may be reached at."""
from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host or "").is_loopback
    except ValueError:
        return False


def is_endpoint(value: str, *, allow_query: bool = False) -> bool:
    """The shape of an identity provider's address: https, or plain http to this machine
    (the local fakes); no fragment, and no query unless ``allow_query``. Whether it may
    be fetched is the outbound client's to say (:meth:`mypages.toolkit.Outbound.check`)."""
    parts = urlsplit(value)
    if (parts.query and not allow_query) or parts.fragment or not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))
