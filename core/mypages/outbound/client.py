"""The outbound HTTP client: httpx, with the connection step guarded.

httpx hands each new connection to a network backend of httpcore's; ours
resolves the host name itself, checks every address it has against the
policy and then connects to a checked address, never to the name. So a DNS
answer that changes between the check and the connection (DNS rebinding)
cannot lead anywhere unchecked, and every redirect is checked the same way,
as it opens a connection of its own. TLS still verifies the certificate
against the host name, which is also the name sent in SNI.
"""
from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from ipaddress import ip_address

import httpcore
import httpx

from mypages.i18n import _
from mypages.outbound.addresses import Policy
from mypages.outbound.resolver import Unresolvable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2_000_000
MAX_REDIRECTS = 5
URL_SHOWN = 200  # characters of an address shown in a message

MESSAGES = {
    "invalid": _("${url} is not a web address."),
    "scheme": _("Only https:// addresses can be fetched, and ${url} is not one."),
    "address": _("${host} leads to an address in a private or internal network, which "
                 "cannot be fetched."),
    "unresolvable": _("${host} could not be found."),
    "unreachable": _("${host} could not be reached."),
    "timeout": _("${host} did not answer in time."),
    "tls": _("The secure connection to ${host} failed: its certificate is not trusted, or "
             "not made out to that name."),
    "too-large": _("The answer from ${host} is too large."),
    "redirects": _("${host} redirected too many times."),
}


class OutboundError(Exception):
    """An outbound request was refused by the policy or failed. ``reason`` is a short code
    for logs and the audit trail (one of :data:`MESSAGES`' keys); ``message`` tells the
    person who typed the address what went wrong, translatable."""

    def __init__(self, reason: str, *, host: str = "", url: str = ""):
        super().__init__(reason)
        self.reason = reason
        shown = url if len(url) <= URL_SHOWN else url[:URL_SHOWN] + "…"
        self.message = _(MESSAGES[reason], mapping={"host": host, "url": shown})


class _GuardedBackend(httpcore.NetworkBackend):
    """Connects to checked addresses only."""

    def __init__(self, policy: Policy, resolve):
        self._policy = policy
        self._resolve = resolve
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = self._resolve(host, port)
        except Unresolvable:
            raise OutboundError("unresolvable", host=host) from None
        # one internal address among public ones is enough to refuse: which of them a
        # connection ends up at is not ours to choose
        refused = [address for address in addresses if not self._policy.address_allowed(address)]
        if refused:
            log.warning("outbound connection to %s refused: it resolves to %s", host,
                        ", ".join(map(str, refused)))
            raise OutboundError("address", host=host)
        failure = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(str(address), port, timeout=timeout,
                                               local_address=local_address,
                                               socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise OutboundError("unreachable", host=path)

    def sleep(self, seconds):
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend; refuses schemes the policy does not
    allow, on the first request and on every redirect."""

    def __init__(self, policy: Policy, resolve, ssl_context: ssl.SSLContext):
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=10, keepalive_expiry=30)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._policy = policy
        # httpx takes no network backend of its own (encode/httpx#3749): its pool is
        # replaced by one with ours, built as httpx builds it
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy, resolve))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self._policy.scheme_allowed(request.url.scheme):
            raise OutboundError("scheme", host=request.url.host, url=str(request.url))
        return super().handle_request(request)


def _ssl_context(ca_file: str | None) -> ssl.SSLContext:
    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    return httpx.create_ssl_context(trust_env=False)


def _is_tls_failure(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, ssl.SSLError):
            return True
        error = error.__cause__ or error.__context__
    return False


class Outbound:
    """The shared client for every request to an address someone typed (an identity
    provider's discovery document, SAML metadata, an API a plugin calls).

    ``get``/``post``/``request`` return an :class:`httpx.Response` whose body has been read
    (at most ``max_bytes``), whatever its status; anything else raises
    :class:`OutboundError`: an address or scheme the policy refuses, a name that cannot
    be resolved, a connection, TLS or time-out failure, an answer too large, too many
    redirects. Redirects are followed only when asked for, each one checked.
    """

    def __init__(self, policy: Policy, resolve, *, ca_file: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES):
        self.policy = policy
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._resolve = resolve
        self._ca_file = ca_file
        self._lock = threading.Lock()
        self._client: tuple[int, httpx.Client] | None = None

    def _http(self) -> httpx.Client:
        """One connection pool per process (a forked worker makes its own)."""
        with self._lock:
            if self._client is None or self._client[0] != os.getpid():
                transport = _GuardedTransport(self.policy, self._resolve, _ssl_context(self._ca_file))
                self._client = (os.getpid(), httpx.Client(
                    transport=transport, timeout=self.timeout, max_redirects=MAX_REDIRECTS,
                    trust_env=False,  # a proxy would resolve names beyond our checks
                    headers={"User-Agent": "mypages", "Accept-Encoding": "identity"}))
            return self._client[1]

    def check(self, url: str) -> str:
        """Refuse ``url`` now if the policy can tell without the network (its scheme, an
        address written as such); the rest is checked when it is fetched. For forms."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise OutboundError("invalid", url=str(url)) from None
        if not parsed.host or parsed.scheme not in ("http", "https"):
            raise OutboundError("invalid", url=url)
        if not self.policy.scheme_allowed(parsed.scheme):
            raise OutboundError("scheme", host=parsed.host, url=url)
        try:
            literal = ip_address(parsed.host)
        except ValueError:
            return url
        if not self.policy.address_allowed(literal):
            raise OutboundError("address", host=parsed.host)
        return url

    def check_resolved(self, url: str) -> str:
        """:meth:`check`, and the host name looked up now: refused if any of its addresses
        is one the policy refuses, as a fetch would be. A name that cannot be found is let
        through (a fetch says so). For forms, so that whoever types an address learns at
        once; every fetch still checks the addresses it connects to."""
        parsed = httpx.URL(self.check(url))
        try:
            addresses = self._resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https"
                                                                  else 80))
        except Unresolvable:
            return url
        if not all(self.policy.address_allowed(address) for address in addresses):
            raise OutboundError("address", host=parsed.host)
        return url

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)

    def request(self, method: str, url: str, *, headers: dict | None = None, params=None,
                data=None, follow_redirects: bool = False,
                max_bytes: int | None = None) -> httpx.Response:
        self.check(url)
        host = httpx.URL(url).host
        limit = self.max_bytes if max_bytes is None else max_bytes
        deadline = time.monotonic() + self.timeout
        try:
            with self._http().stream(method, url, headers=headers, params=params, data=data,
                                     follow_redirects=follow_redirects) as answer:
                host = answer.url.host
                body = bytearray()
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise OutboundError("too-large", host=host)
                    if time.monotonic() > deadline:  # a trickle of bytes that never ends
                        raise OutboundError("timeout", host=host)
                # decoded already: the copy must not say it is still compressed
                kept = [(name, value) for name, value in answer.headers.multi_items()
                        if name.lower() not in ("content-encoding", "content-length",
                                                "transfer-encoding")]
                return httpx.Response(answer.status_code, headers=kept, content=bytes(body),
                                      request=answer.request)
        except OutboundError as error:
            log.info("outbound %s to %s refused: %s", method, host, error.reason)
            raise
        except httpx.TooManyRedirects:
            reason = "redirects"
        except httpx.InvalidURL:  # a redirect to something that is no address
            reason = "unreachable"
        except httpx.TimeoutException:
            reason = "timeout"
        except httpx.HTTPError as error:
            reason = "tls" if _is_tls_failure(error) else "unreachable"
            log.info("outbound %s to %s failed: %r", method, host, error)
        raise OutboundError(reason, host=host)
