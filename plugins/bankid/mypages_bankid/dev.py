"""Offline BankID for development: the fake RP API beside the portal, and a phone page.

With ``bankid.environment = fake`` (development features only; production refuses it) the
first BankID call starts :class:`~mypages_bankid.fake.FakeBankID` on loopback in a thread of
this process, with certificates made for it, and the client talks to it over HTTPS with
mutual TLS as it would to BankID. ``/_dev/bankid/`` plays the phone: it lists the pending
orders and scans a QR code, opens an order as the app on this device would, approves it as a
person of your choosing or cancels it.
"""
from __future__ import annotations

import dataclasses
import tempfile
import threading
import time

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from mypages.toolkit import DevApp, hookimpl

from mypages_bankid.client import RpConfig
from mypages_bankid.fake import P12_PASSWORD, FakeBankID, FakeCertificates, FakeError
from mypages_bankid.i18n import _
from mypages_bankid.personal_numbers import InvalidPersonalNumber, validate
from mypages_bankid.qr import qr_content

#: the demo person's number (a valid one, of nobody: the 1st of January 1990)
DEMO_PERSONAL_NUMBER = "199001011239"
PHONE_PAGE = "mypages_bankid:templates/dev_phone.jinja2"


@dataclasses.dataclass
class FakeService:
    fake: FakeBankID
    rp_config: RpConfig
    certificates: FakeCertificates


_service: FakeService | None = None
_lock = threading.Lock()


def fake_service(directory: str | None = None) -> FakeService:
    """The process's fake BankID, started on first use, with the certificates of
    ``directory`` (``bankid.fake_directory``: made there once and kept, so that signatures
    made by one run verify in the next) or of a temporary directory."""
    global _service
    with _lock:
        if _service is None:
            certificates = FakeCertificates(
                directory or tempfile.mkdtemp(prefix="mypages-fake-bankid-"),
                keep=directory is not None)
            fake = FakeBankID(certificates).start()
            _service = FakeService(fake, RpConfig(
                "fake", fake.url, certificates.server_ca_file, certificates.rp_p12_file,
                password=P12_PASSWORD, timeout=5.0), certificates)
        return _service


def _fake(request) -> FakeBankID:
    return fake_service(request.registry["bankid.service"].fake_directory).fake


def _orders(fake: FakeBankID) -> list[dict]:
    return [dict(order.public(), qr=order.qr_start_token is not None,
                 started=order.started) for order in fake.pending()]


@view_config(route_name="bankid_phone", renderer=PHONE_PAGE, request_method="GET")
def phone(request, error=None):
    return {"orders": _orders(_fake(request)), "error": error,
            "personal_number": request.params.get("personal_number", DEMO_PERSONAL_NUMBER)}


@view_config(route_name="bankid_phone", renderer=PHONE_PAGE, request_method="POST")
def act(request):
    fake = _fake(request)
    action, order_ref = request.POST.get("action"), request.POST.get("order", "")
    try:
        if action == "scan":
            content = request.POST.get("content", "").strip()
            if not content:  # the camera: the order's QR code as the browser shows it now
                order = fake.orders.get(order_ref)
                if order is None or order.qr_start_secret is None:
                    raise FakeError("no such order")
                content = qr_content(order.qr_start_token, order.qr_start_secret,
                                     int(time.time() - order.created))
            fake.scan(content)
        elif action == "open":
            order = fake.orders.get(order_ref)
            fake.open_autostart(order.auto_start_token if order else "")
        elif action == "approve":
            number = validate(request.POST.get("personal_number", ""))
            fake.approve(order_ref, {"personalNumber": number, "name": "Demo Person",
                                     "givenName": "Demo", "surname": "Person"})
        elif action == "cancel":
            fake.user_cancel(order_ref)
        else:
            raise FakeError("unknown action")
    except InvalidPersonalNumber as invalid:
        request.response.status = 400
        return phone(request, invalid.message)
    except FakeError as error:
        request.response.status = 400
        return phone(request, str(error))
    return HTTPSeeOther(request.route_url("bankid_phone"))


def include_phone(config):
    config.add_route("bankid_phone", "/")
    config.scan("mypages_bankid.dev")


@hookimpl
def mypages_dev_apps():
    return [DevApp(
        "bankid", _("BankID, offline"),
        _("A fake BankID service runs beside the portal (set bankid.environment = fake). "
          "This page plays the phone: scan the QR code, open the app, approve or cancel."),
        include=include_phone,
        details=lambda request: [(_("Personal identity number of the demo admin"),
                                  DEMO_PERSONAL_NUMBER)])]
