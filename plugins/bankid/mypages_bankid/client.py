"""The BankID RP API v6.0 client: httpx over mutual TLS.

The relying party's certificate (a PKCS#12 file with its password, or a PEM certificate and
key) is loaded into an :class:`ssl.SSLContext` that trusts the configured BankID CA only, and
that context is what httpx is given. httpx drops a client certificate passed as ``cert=``
beside ``verify=<path>`` without a word (encode/httpx#3441), which BankID then answers with a
TLS failure or ``unauthorized``; a context with the chain loaded cannot lose it.

Every call is a POST of JSON with ``Content-Type: application/json`` exactly: with a charset
the service answers 415. A 503 is retried (the service says maintenance may be retried
silently), nothing else is: a timeout, a 408 or a 500 goes back to the person, who may try
again.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

log = logging.getLogger(__name__)

URLS = {"test": "https://appapi2.test.bankid.com/rp/v6.0/",
        "production": "https://appapi2.bankid.com/rp/v6.0/"}
#: ``bankid.environment = fake``: the development stand-in (mypages.dev_features only)
FAKE = "fake"
ENVIRONMENTS = (*URLS, FAKE)
PASSWORD_VARIABLE = "MYPAGES_BANKID_CERTIFICATE_PASSWORD"
JSON = "application/json"


class ConfigurationError(Exception):
    """The ``bankid.*`` settings cannot be used; the message names the setting."""


@dataclass(frozen=True)
class RpConfig:
    """Where the RP API is and how to reach it, from the ``bankid.*`` settings."""

    environment: str
    url: str
    ca_file: str
    certificate: str
    key: str | None = None
    password: str | None = None
    timeout: float = 10.0
    maintenance_retries: int = 2
    retry_delay: float = 0.5

    def __repr__(self) -> str:  # never the password, in a traceback or a log
        return (f"RpConfig(environment={self.environment!r}, url={self.url!r}, "
                f"certificate={self.certificate!r})")


def config_from_settings(settings: Mapping, environ: Mapping = os.environ) -> RpConfig | None:
    """The configuration from the ``bankid.*`` settings, None if BankID is not configured.

    ``bankid.environment`` (``test`` or ``production``) chooses the service;
    ``bankid.url`` may replace its address. ``bankid.ca_file`` is the BankID SSL root CA to
    trust (and only it), ``bankid.certificate`` the RP certificate (``.p12``/``.pfx``, or PEM
    with ``bankid.key``). The password is read from the environment variable named by
    ``bankid.certificate_password_env`` (default :data:`PASSWORD_VARIABLE`), never from the
    file."""
    environment = (settings.get("bankid.environment") or "").strip()
    if not environment:
        return None
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(f"bankid.environment is {environment!r}; it must be one of "
                                 + ", ".join(ENVIRONMENTS))
    if environment == FAKE:
        return RpConfig(FAKE, "", "", "")
    url = (settings.get("bankid.url") or URLS[environment]).strip()
    if not url.startswith("https://"):
        raise ConfigurationError("bankid.url must be an https:// address")
    url = url if url.endswith("/") else url + "/"
    ca_file = (settings.get("bankid.ca_file") or "").strip()
    certificate = (settings.get("bankid.certificate") or "").strip()
    if not ca_file or not certificate:
        raise ConfigurationError("bankid.ca_file and bankid.certificate are needed with "
                                 "bankid.environment")
    variable = (settings.get("bankid.certificate_password_env") or PASSWORD_VARIABLE).strip()
    try:
        timeout = float(settings.get("bankid.timeout") or 10)
        retry_delay = float(settings.get("bankid.retry_delay") or 0.5)
    except ValueError:
        raise ConfigurationError("bankid.timeout and bankid.retry_delay are numbers of "
                                 "seconds") from None
    return RpConfig(environment, url, ca_file, certificate,
                    key=(settings.get("bankid.key") or "").strip() or None,
                    password=environ.get(variable) or None, timeout=timeout,
                    retry_delay=retry_delay)


class BankIDError(Exception):
    """The service answered with an error (``status``, ``error_code``, ``details``), or did
    not answer (``status`` 0, ``error_code`` ``unreachable``, ``timeout`` or ``tls``)."""

    def __init__(self, status: int, error_code: str, details: str = "",
                 retry_after: str | None = None):
        super().__init__(f"{status} {error_code}: {details}")
        self.status = status
        self.error_code = error_code
        self.details = details
        self.retry_after = retry_after


def _load_chain(context: ssl.SSLContext, config: RpConfig) -> None:
    password = config.password.encode() if config.password else None
    suffix = Path(config.certificate).suffix.lower()
    if suffix in (".p12", ".pfx"):
        key, certificate, chain = pkcs12.load_key_and_certificates(
            Path(config.certificate).read_bytes(), password)
        if key is None or certificate is None:
            raise ConfigurationError(f"{config.certificate} holds no key and certificate")
        # ssl loads a chain from files only: write it for a moment, the key under a
        # password of its own, readable by this process's user only
        once = secrets.token_hex(16).encode()
        with tempfile.TemporaryDirectory(prefix="mypages-bankid-") as folder:
            pem = Path(folder) / "rp.pem"
            pem.write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(once))
                + b"".join(c.public_bytes(serialization.Encoding.PEM)
                           for c in [certificate, *(chain or [])]))
            context.load_cert_chain(pem, password=once)
    else:
        context.load_cert_chain(config.certificate, config.key, password=password)


def ssl_context(config: RpConfig) -> ssl.SSLContext:
    """TLS to the RP API: the configured CA alone is trusted (not the system's), the host
    name is checked, and the RP certificate is presented."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=config.ca_file)
    _load_chain(context, config)
    return context


def rp_certificate(config: RpConfig) -> x509.Certificate:
    """The RP certificate (not its key)."""
    data = Path(config.certificate).read_bytes()
    if Path(config.certificate).suffix.lower() in (".p12", ".pfx"):
        return pkcs12.load_key_and_certificates(
            data, config.password.encode() if config.password else None)[1]
    return x509.load_pem_x509_certificate(data)


def certificate_expiry(config: RpConfig) -> dt.datetime:
    """When the RP certificate stops being valid (aware UTC)."""
    return rp_certificate(config).not_valid_after_utc


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class RpClient:
    """Calls of the RP API; each returns the service's JSON answer as a dict or raises
    :class:`BankIDError`. One connection pool per process."""

    def __init__(self, config: RpConfig):
        self.config = config
        self._context = ssl_context(config)
        self._lock = threading.Lock()
        self._client: tuple[int, httpx.Client] | None = None

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._client[0] != os.getpid():
                self._client = (os.getpid(), httpx.Client(
                    base_url=self.config.url, verify=self._context, trust_env=False,
                    timeout=httpx.Timeout(self.config.timeout),
                    headers={"User-Agent": "mypages-bankid"}))
            return self._client[1]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client[1].close()
                self._client = None

    def call(self, path: str, body: dict) -> dict:
        content = json.dumps(body, separators=(",", ":")).encode()
        attempts = 1 + self.config.maintenance_retries
        for attempt in range(attempts):
            try:
                answer = self._http().post(path, content=content,
                                           headers={"Content-Type": JSON})
            except httpx.TimeoutException:
                raise BankIDError(0, "timeout", path) from None
            except httpx.TransportError as error:
                reason = "tls" if _is_tls(error) else "unreachable"
                raise BankIDError(0, reason, path) from None
            if answer.status_code == 200:
                return answer.json()
            error = _error_of(answer)
            if answer.status_code != 503 or attempt == attempts - 1:
                raise error
            log.info("BankID %s answered 503 (%s); trying again", path, error.error_code)
            time.sleep(self.config.retry_delay * (attempt + 1))
        raise AssertionError("unreachable")

    def _start(self, path: str, *, end_user_ip: str | None = None,
               personal_number: str | None = None, call_initiator: str | None = None,
               user_visible_data: str | None = None, user_non_visible_data: bytes | None = None,
               return_url: str | None = None, return_risk: bool = False,
               requirement: dict | None = None, web: dict | None = None) -> dict:
        body: dict = {}
        if end_user_ip is not None:
            body["endUserIp"] = end_user_ip
        if call_initiator is not None:
            body["personalNumber"], body["callInitiator"] = personal_number, call_initiator
        requirement = dict(requirement or {})
        if personal_number and call_initiator is None:
            requirement["personalNumber"] = personal_number
        if requirement:
            body["requirement"] = requirement
        if user_visible_data is not None:
            body["userVisibleData"] = _b64(user_visible_data)
            body["userVisibleDataFormat"] = "simpleMarkdownV1"
        if user_non_visible_data is not None:
            body["userNonVisibleData"] = base64.b64encode(user_non_visible_data).decode()
        if return_url:
            body["returnUrl"] = return_url
        if return_risk:
            body["returnRisk"] = True
        if web:
            body["web"] = web
        return self.call(path, body)

    def auth(self, end_user_ip: str, **kw) -> dict:
        return self._start("auth", end_user_ip=end_user_ip, **kw)

    def sign(self, end_user_ip: str, user_visible_data: str, **kw) -> dict:
        return self._start("sign", end_user_ip=end_user_ip,
                           user_visible_data=user_visible_data, **kw)

    def phone_auth(self, personal_number: str, call_initiator: str, **kw) -> dict:
        return self._start("phone/auth", personal_number=personal_number,
                           call_initiator=call_initiator, **kw)

    def phone_sign(self, personal_number: str, call_initiator: str, user_visible_data: str,
                   **kw) -> dict:
        return self._start("phone/sign", personal_number=personal_number,
                           call_initiator=call_initiator, user_visible_data=user_visible_data,
                           **kw)

    def collect(self, order_ref: str) -> dict:
        return self.call("collect", {"orderRef": order_ref})

    def cancel(self, order_ref: str) -> None:
        self.call("cancel", {"orderRef": order_ref})


def _is_tls(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, ssl.SSLError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _error_of(answer: httpx.Response) -> BankIDError:
    try:
        body = answer.json()
        code, details = str(body.get("errorCode") or ""), str(body.get("details") or "")
    except (ValueError, AttributeError):
        code, details = "", ""
    if not code:
        code = {503: "maintenance", 429: "tooManyRequests"}.get(answer.status_code, "unknown")
    return BankIDError(answer.status_code, code, details[:200],
                       retry_after=answer.headers.get("Retry-After"))
