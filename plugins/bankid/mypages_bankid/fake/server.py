"""A fake BankID RP API v6.0: HTTPS with mutual TLS on loopback, orders kept in memory.

It answers ``auth``, ``sign``, ``phone/auth``, ``phone/sign``, ``collect`` and ``cancel`` as
the real service documents them, with its errors: a charset in the content type (415), a
method other than POST (405), an unknown path (404), bad parameters (400
``invalidParameters``), a second order for a personal number with one pending (400
``alreadyInProgress``), an order collected after its time (3 minutes after completion, 5
after failure) or after it was cancelled. An order nobody starts fails with ``startFailed``
after :data:`START_SECONDS`; one started and left fails with ``expiredTransaction`` after
:data:`ORDER_SECONDS`.

Tests and the development phone page drive it: :meth:`FakeBankID.script` decides how the
next orders end (``complete``, ``userCancel``, ``expiredTransaction``, ``startFailed``) or
whether the next start is refused (``alreadyInProgress``, ``maintenance``, ``503``...);
:meth:`FakeBankID.scan` reads a QR code's content as the app does (and refuses one that is
stale or forged), :meth:`FakeBankID.approve` and :meth:`FakeBankID.user_cancel` play the
person at the phone. Every request is recorded with the subject of the client certificate
presented, so a test can prove the relying party's certificate really reached the server.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address

from cryptography import x509

from mypages_bankid.fake.evidence import ocsp_response, signed_xml
from mypages_bankid.qr import auth_code

START_SECONDS = 30
ORDER_SECONDS = 180
COMPLETE_KEPT_SECONDS = 180
FAILED_KEPT_SECONDS = 300
#: how old (in seconds) a scanned QR content may be; the app reads it within a second or two
QR_FRESH_SECONDS = 3

PATHS = ("auth", "sign", "phone/auth", "phone/sign", "collect", "cancel")
#: outcomes that refuse to start an order: (HTTP status, errorCode or None for a bare page)
START_ERRORS = {
    "alreadyInProgress": (400, "alreadyInProgress"),
    "invalidParameters": (400, "invalidParameters"),
    "unauthorized": (401, "unauthorized"),
    "requestTimeout": (408, "requestTimeout"),
    "tooManyRequests": (429, "tooManyRequests"),
    "internalError": (500, "internalError"),
    "maintenance": (503, "maintenance"),
    "503": (503, None),
}
END_STATES = ("complete", "userCancel", "expiredTransaction", "startFailed", "certificateErr",
              "cancelled")

DEFAULT_PERSON = {"personalNumber": "199001011239", "name": "Karl Karlsson",
                  "givenName": "Karl", "surname": "Karlsson"}


class FakeError(Exception):
    """What the phone page shows when a scan or an approval cannot be done."""


@dataclass
class Outcome:
    """How an order ends when collected: ``pending`` hint codes first, one a collect, then
    ``end`` (one of :data:`END_STATES`) with ``person`` for ``complete``."""

    end: str = "complete"
    person: dict = field(default_factory=lambda: dict(DEFAULT_PERSON))
    pending: tuple[str, ...] = ()


@dataclass
class Order:
    order_ref: str
    kind: str
    created: float
    body: dict
    client: str
    qr_start_token: str | None = None
    qr_start_secret: str | None = None
    auto_start_token: str | None = None
    status: str = "pending"
    hint_code: str = "outstandingTransaction"
    started: bool = False
    ended_at: float | None = None
    completion: dict | None = None
    outcome: Outcome | None = None
    cancelled: bool = False

    @property
    def personal_number(self) -> str | None:
        return self.body.get("personalNumber") or self.body.get(
            "requirement", {}).get("personalNumber")

    def public(self) -> dict:
        """What the phone page shows of the order."""
        data = self.body.get("userVisibleData")
        return {"orderRef": self.order_ref, "kind": self.kind, "status": self.status,
                "hintCode": self.hint_code, "personalNumber": self.personal_number,
                "callInitiator": self.body.get("callInitiator"),
                "userVisibleData": base64.b64decode(data).decode() if data else None,
                "endUserIp": self.body.get("endUserIp")}


class FakeBankID:
    """The service's state; :meth:`start` serves it over HTTPS in a thread."""

    def __init__(self, certificates, *, now=time.time):
        self.certificates = certificates
        self.now = now
        self.orders: dict[str, Order] = {}
        self.requests: list[dict] = []
        self.outcomes: deque[Outcome | str] = deque()
        #: how orders end when nothing is scripted (None: they wait for the phone)
        self.default_outcome: Outcome | None = None
        self.errors: dict[str, deque[str]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # -- scripting ---------------------------------------------------------------------

    def script(self, *outcomes: Outcome | str) -> None:
        """How the next orders end (an :class:`Outcome`, or an end state's name), or a name
        of :data:`START_ERRORS` to refuse the next start with that error."""
        with self._lock:
            for outcome in outcomes:
                if isinstance(outcome, str) and outcome in END_STATES:
                    outcome = Outcome(outcome)
                elif isinstance(outcome, str) and outcome not in START_ERRORS:
                    raise ValueError(f"no such outcome: {outcome}")
                self.outcomes.append(outcome)

    def fail_next(self, path: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``path`` answer with ``error`` (of
        :data:`START_ERRORS`)."""
        with self._lock:
            self.errors.setdefault(path, deque()).extend([error] * times)

    # -- the person at the phone ---------------------------------------------------------

    def pending(self) -> list[Order]:
        with self._lock:
            self._expire_all()
            return [order for order in self.orders.values() if order.status == "pending"]

    def scan(self, content: str) -> Order:
        """The app reads a QR code: ``bankid.<token>.<time>.<code>`` of a pending order, with
        the right code for a time within the last :data:`QR_FRESH_SECONDS`."""
        parts = content.strip().split(".")
        if len(parts) != 4 or parts[0] != "bankid" or not parts[2].isdigit():
            raise FakeError("not a BankID QR code")
        _, token, seconds, code = parts
        with self._lock:
            self._expire_all()
            order = next((o for o in self.orders.values() if o.qr_start_token == token), None)
            if order is None or order.status != "pending":
                raise FakeError("no pending order has this QR code")
            if not hmac.compare_digest(auth_code(order.qr_start_secret, int(seconds)), code):
                raise FakeError("the QR code's authentication code is wrong")
            age = self.now() - order.created
            if not (int(seconds) - 1 <= age <= int(seconds) + QR_FRESH_SECONDS):
                raise FakeError("the QR code is stale")
            self._start(order)
            return order

    def open_autostart(self, token: str) -> Order:
        """The app is opened with an order's autostart token (same device)."""
        with self._lock:
            self._expire_all()
            order = next((o for o in self.orders.values() if o.auto_start_token == token
                          and o.status == "pending"), None)
            if order is None:
                raise FakeError("no pending order has this autostart token")
            self._start(order)
            return order

    def _start(self, order: Order) -> None:
        order.started = True
        order.hint_code = "userSign" if order.kind.endswith("sign") else "started"

    def approve(self, order_ref: str, person: dict | None = None) -> Order:
        """The person identifies or signs; a phone order needs no scan first."""
        with self._lock:
            order = self._pending_order(order_ref)
            if not order.started and not order.kind.startswith("phone/"):
                raise FakeError("scan the QR code or open the app first")
            person = dict(person or order.outcome and order.outcome.person or DEFAULT_PERSON)
            if order.personal_number and person["personalNumber"] != order.personal_number:
                raise FakeError("the order is for another personal number")
            self._complete(order, person)
            return order

    def user_cancel(self, order_ref: str) -> Order:
        with self._lock:
            order = self._pending_order(order_ref)
            self._fail(order, "userCancel")
            return order

    def _pending_order(self, order_ref: str) -> Order:
        self._expire_all()
        order = self.orders.get(order_ref)
        if order is None or order.status != "pending":
            raise FakeError("no pending order with that reference")
        return order

    # -- order life ----------------------------------------------------------------------

    def _complete(self, order: Order, person: dict) -> None:
        order.status, order.hint_code, order.ended_at = "complete", None, self.now()
        when = dt.datetime.fromtimestamp(self.now(), dt.timezone.utc)
        completion = {
            "user": person,
            "device": {"ipAddress": order.body.get("endUserIp", "192.0.2.1"),
                       "uhi": base64.b64encode(secrets.token_bytes(12)).decode()},
            "bankIdIssueDate": "2020-02-01",
            "signature": base64.b64encode(
                signed_xml(self.certificates, order.body, order.kind)).decode(),
            "ocspResponse": base64.b64encode(
                ocsp_response(self.certificates, when)).decode(),
        }
        if order.body.get("requirement", {}).get("mrtd"):
            completion["stepUp"] = {"mrtd": True}
        if order.body.get("returnRisk"):
            completion["risk"] = "low"
        order.completion = completion

    def _fail(self, order: Order, hint_code: str) -> None:
        order.status, order.hint_code, order.ended_at = "failed", hint_code, self.now()

    def _expire(self, order: Order) -> None:
        if order.status != "pending":
            return
        age = self.now() - order.created
        if not order.started and not order.kind.startswith("phone/") and age > START_SECONDS:
            self._fail(order, "startFailed")
        elif age > ORDER_SECONDS:
            self._fail(order, "expiredTransaction")

    def _expire_all(self) -> None:
        for order in self.orders.values():
            self._expire(order)

    # -- the API -------------------------------------------------------------------------

    def handle(self, path: str, body: dict, client: str) -> tuple[int, dict | None]:
        with self._lock:
            self.requests.append({"path": path, "body": body, "client": client})
            queued = self.errors.get(path)
            if queued:
                return _error(queued.popleft())
            if path in ("collect", "cancel"):
                return getattr(self, "_" + path)(body)
            return self._new_order(path, body, client)

    def _new_order(self, path: str, body: dict, client: str) -> tuple[int, dict | str | None]:
        problem = _invalid(path, body)
        if problem:
            return 400, {"errorCode": "invalidParameters", "details": problem}
        outcome = self.outcomes.popleft() if self.outcomes else (
            dataclasses.replace(self.default_outcome) if self.default_outcome else None)
        if isinstance(outcome, str):
            return _error(outcome)
        self._expire_all()
        order = Order(str(uuid.uuid4()), path, self.now(), body, client, outcome=outcome)
        if order.personal_number and any(
                o.personal_number == order.personal_number and o.status == "pending"
                for o in self.orders.values()):
            return 400, {"errorCode": "alreadyInProgress",
                         "details": "Order already in progress for pno"}
        self.orders[order.order_ref] = order
        if path.startswith("phone/"):
            return 200, {"orderRef": order.order_ref}
        order.qr_start_token, order.qr_start_secret = str(uuid.uuid4()), str(uuid.uuid4())
        order.auto_start_token = str(uuid.uuid4())
        return 200, {"orderRef": order.order_ref, "autoStartToken": order.auto_start_token,
                     "qrStartToken": order.qr_start_token,
                     "qrStartSecret": order.qr_start_secret}

    def _order_for(self, body: dict) -> Order | None:
        order = self.orders.get(body.get("orderRef")) if isinstance(body.get("orderRef"), str) \
            else None
        return None if order is None or order.cancelled else order

    def _collect(self, body: dict) -> tuple[int, dict]:
        order = self._order_for(body)
        if order is None:
            return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        self._expire(order)
        if order.status == "pending" and order.outcome is not None:
            if order.outcome.pending:
                order.hint_code, order.outcome.pending = (order.outcome.pending[0],
                                                          order.outcome.pending[1:])
            elif order.outcome.end == "complete":
                self._complete(order, order.outcome.person)
            else:
                self._fail(order, order.outcome.end)
        if order.ended_at is not None:
            kept = COMPLETE_KEPT_SECONDS if order.status == "complete" else FAILED_KEPT_SECONDS
            if self.now() - order.ended_at > kept:
                return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        answer = {"orderRef": order.order_ref, "status": order.status}
        if order.status == "complete":
            answer["completionData"] = order.completion
        else:
            answer["hintCode"] = order.hint_code
        return 200, answer

    def _cancel(self, body: dict) -> tuple[int, dict]:
        order = self._order_for(body)
        if order is None or order.status != "pending":
            return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        order.cancelled = True
        self._fail(order, "cancelled")
        return 200, {}

    # -- serving -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "FakeBankID":
        fake = self

        class Handler(_Handler):
            service = fake

        server = _Server((host, port), Handler)
        server.socket = self.certificates.server_context().wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self.url = f"https://localhost:{server.server_address[1]}/rp/v6.0/"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name="fake-bankid").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.orders.clear()
            self.requests.clear()
            self.outcomes.clear()
            self.errors.clear()
            self.default_outcome = None


def _error(name: str) -> tuple[int, dict | None]:
    status, code = START_ERRORS[name]
    return status, None if code is None else {"errorCode": code, "details": ""}


def _b64(value) -> bool:
    try:
        base64.b64decode(value, validate=True)
        return True
    except (binascii.Error, TypeError, ValueError):
        return False


def _invalid(path: str, body: dict) -> str | None:
    """Why ``body`` cannot start an order, as the service's ``details``; else None."""
    if path.startswith("phone/"):
        number = body.get("personalNumber")
        if not (isinstance(number, str) and len(number) == 12 and number.isdigit()):
            return "Incorrect personalNumber"
        if body.get("callInitiator") not in ("user", "RP"):
            return "Incorrect callInitiator"
    else:
        try:
            ip_address(body.get("endUserIp", ""))
        except ValueError:
            return "Incorrect endUserIp"
    if path.endswith("sign") and not body.get("userVisibleData"):
        return "Missing userVisibleData"
    for key in ("userVisibleData", "userNonVisibleData"):
        if key in body and not _b64(body[key]):
            return f"Incorrect {key}"
    if body.get("userVisibleDataFormat") not in (None, "simpleMarkdownV1"):
        return "Incorrect userVisibleDataFormat"
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that refused our certificate or had none


class _Handler(BaseHTTPRequestHandler):
    service: FakeBankID
    protocol_version = "HTTP/1.1"
    # the headers and the body are two writes: without TCP_NODELAY the body waits for the
    # client's delayed acknowledgement (some 40 ms) on every answer
    disable_nagle_algorithm = True
    PREFIX = "/rp/v6.0/"

    def setup(self):
        super().setup()
        self.connection.do_handshake()  # here, in the connection's thread

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: dict | None) -> None:
        if body is None:  # a bare 503, as a balancer in front of the service would answer
            data, kind = b"<html><body>Service Unavailable</body></html>", "text/html"
        else:
            data, kind = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _client(self) -> str:
        der = self.connection.getpeercert(binary_form=True)
        if not der:
            return ""
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()

    def _other(self):
        self.close_connection = True
        self._answer(405, {"errorCode": "methodNotAllowed", "details": ""})

    do_GET = do_PUT = do_DELETE = do_PATCH = _other

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = self.path[len(self.PREFIX):] if self.path.startswith(self.PREFIX) else None
        if path not in PATHS:
            return self._answer(404, {"errorCode": "notFound", "details": ""})
        if self.headers.get("Content-Type") != "application/json":
            return self._answer(415, {"errorCode": "unsupportedMediaType", "details": ""})
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return self._answer(400, {"errorCode": "invalidParameters",
                                      "details": "Invalid JSON in request"})
        self._answer(*self.service.handle(path, body, self._client()))
