"""BankID as the toolkit's signer: a text (and data not shown) signed with BankID by the
person the caller names, kept with BankID's evidence, verifiable later (:mod:`.verify`).

:func:`start` keeps the request and sends the person to the signing page
(``/bankid/sign/<reference>``), which runs a ``sign`` order with the same QR code and
autostart link as a sign-in, for the person's own personal number only; once complete the
browser goes back to the caller's ``next_url`` with ``signature=<reference>``.
"""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPSeeOther

from mypages.toolkit import Refusal, Signature, Signer, clock

from mypages_bankid.i18n import _
from mypages_bankid.models import Signature as SignatureRow

NOT_YOU = _("Only the person asked to sign can sign this.")


def start(request, signature_request) -> HTTPSeeOther:
    if request.user is None or request.user.id != signature_request.user_id:
        raise Refusal(NOT_YOU)
    row = SignatureRow(id=str(uuid.uuid4()), user_id=signature_request.user_id,
                       purpose=signature_request.purpose[:64], text=signature_request.text,
                       data=signature_request.data, next_url=signature_request.next_url,
                       status="pending", created_at=clock(request).now())
    request.dbsession.add(row)
    request.dbsession.flush()
    request.audit("bankid.signature_requested", target=request.user.email, company=None,
                  signature=row.id, purpose=row.purpose)
    return HTTPSeeOther(request.route_url("bankid_sign", id=row.id))


def find(dbsession, reference: str) -> Signature | None:
    row = dbsession.get(SignatureRow, reference)
    if row is None or row.status != "complete":
        return None
    return Signature(reference=row.id, method="bankid", user_id=row.user_id,
                     signer_name=row.signer_name or "", signed_at=row.signed_at,
                     text=row.text, data=bytes(row.data), purpose=row.purpose)


def back_to_caller(row: SignatureRow) -> str:
    joiner = "&" if "?" in row.next_url else "?"
    return f"{row.next_url}{joiner}{urlencode({'signature': row.id})}"


def signer(module_key: str) -> Signer:
    return Signer("bankid", _("BankID"), start, find, modules=(module_key,))
