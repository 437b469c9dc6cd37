"""BankID orders from start to finish, without the web: start, collect, cancel, complete.

One pending order per user (a signed-in person's step-up or linking) or per browser (a
sign-in, whose person is not known yet): the order row is reserved under that ``pending_key``
before BankID is called, so a second tab, even at the same instant, gets the first tab's order
instead of a second one. An order is collected at most every :data:`COLLECT_EVERY` (the page
asks each second, for the QR code) and never after :data:`ORDER_LIFETIME`; once complete or
failed it is not collected again.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from mypages_bankid import identities
from mypages_bankid.client import BankIDError
from mypages_bankid.messages import error_rfa, failed_rfa, pending_rfa
from mypages_bankid.models import Order, Signature
from mypages_bankid.personal_numbers import InvalidPersonalNumber, masked, validate

log = logging.getLogger(__name__)

PURPOSES = ("sign_in", "step_up", "link", "sign")
#: an operator's identification of a caller (phone/auth), started from the operator pages
PHONE = "phone"
CALL_INITIATORS = ("user", "RP")
DEVICES = ("qr", "same")
COLLECT_EVERY = dt.timedelta(seconds=2)
#: a poll a little early still collects: the page's timer is not exact
COLLECT_SLACK = dt.timedelta(milliseconds=200)
#: BankID ends an order within three minutes; after that it is not collected but expired
ORDER_LIFETIME = dt.timedelta(minutes=3)
#: a completed order is finished (the session made) within this, or not at all
FINISH_WITHIN = dt.timedelta(minutes=3)

#: problems of ours after a completed identification (the key is kept on the order)
UNKNOWN, ELSEWHERE, NOT_YOURS = "unknown", "elsewhere", "not_yours"

Audit = Callable[..., object]


@dataclass(frozen=True)
class Context:
    """What the order functions need: the database, the RP client, the time and the audit."""

    dbsession: object
    registry: object
    client: object
    now: dt.datetime
    audit: Audit


class StartFailed(Exception):
    def __init__(self, order: Order):
        super().__init__(order.problem)
        self.order = order


def pending_key(user_id: int | None, browser: str) -> str:
    return f"user:{user_id}" if user_id is not None else f"browser:{browser}"


def pending_order(dbsession, key: str) -> Order | None:
    return dbsession.scalars(select(Order).where(Order.pending_key == key)).one_or_none()


def start(ctx: Context, *, purpose: str, device: str, user_id: int | None, browser: str,
          end_user_ip: str, next_url: str = "", restart: bool = False,
          return_url: Callable[[Order], str] | None = None, web: dict | None = None,
          signature: Signature | None = None, personal_number: str | None = None) -> Order:
    """A pending order for ``purpose``: the one already pending for this user or browser (a
    second tab), unless ``restart`` or it was for something else, which cancels it first.
    ``sign`` orders sign ``signature``'s text and data, by ``personal_number`` only."""
    key = pending_key(user_id, browser)
    existing = pending_order(ctx.dbsession, key)
    if existing is not None:
        if (not restart and existing.purpose == purpose and existing.device == device
                and existing.status == "pending" and not expired(existing, ctx.now)
                and (signature is None or signature.order_id == existing.id)):
            return existing
        cancel(ctx, existing)
    order = Order(id=str(uuid.uuid4()), purpose=purpose, device=device, user_id=user_id,
                  browser=browser, pending_key=key, status="starting", next_url=next_url[:500])
    try:
        with ctx.dbsession.begin_nested():
            ctx.dbsession.add(order)
    except IntegrityError:  # another tab reserved one a moment ago: share it
        winner = pending_order(ctx.dbsession, key)
        if winner is not None:
            return winner
        raise
    try:
        returning = return_url(order) if return_url else None
        if signature is not None:
            signature.order_id = order.id
            answer = ctx.client.sign(end_user_ip, signature.text,
                                     user_non_visible_data=signature.data,
                                     personal_number=personal_number, return_url=returning,
                                     web=web)
        else:
            answer = ctx.client.auth(end_user_ip, return_url=returning, web=web)
    except BankIDError as error:
        order.status, order.problem, order.rfa = "error", error.error_code, error_rfa(
            error.error_code)
        order.pending_key, order.ended_at = None, ctx.now
        ctx.audit("bankid.start_failed", purpose=purpose, error=error.error_code,
                  status=error.status)
        raise StartFailed(order) from None
    order.order_ref = answer["orderRef"]
    order.qr_start_token, order.qr_start_secret = answer["qrStartToken"], answer["qrStartSecret"]
    order.auto_start_token = answer["autoStartToken"]
    order.status, order.hint_code, order.started_at = "pending", "outstandingTransaction", ctx.now
    ctx.audit("bankid.started", purpose=purpose, device=device, order=order.id)
    return order


def start_phone(ctx: Context, *, operator_id: int, browser: str, personal_number: str,
                call_initiator: str) -> Order:
    """An operator asks the person on the phone to identify with BankID (``phone/auth``):
    ``call_initiator`` is ``user`` when they called us, ``RP`` when we called them. One
    pending at a time per operator: a new one cancels the last."""
    key = f"phone:{operator_id}"
    existing = pending_order(ctx.dbsession, key)
    if existing is not None:
        cancel(ctx, existing)
    order = Order(id=str(uuid.uuid4()), purpose=PHONE, device=PHONE, user_id=None,
                  browser=browser, pending_key=key, status="starting",
                  phone_number=personal_number, call_initiator=call_initiator)
    ctx.dbsession.add(order)
    ctx.dbsession.flush()
    try:
        answer = ctx.client.phone_auth(personal_number, call_initiator)
    except BankIDError as error:
        order.status, order.problem, order.rfa = "error", error.error_code, error_rfa(
            error.error_code)
        order.pending_key, order.ended_at = None, ctx.now
        ctx.audit("bankid.start_failed", purpose=PHONE, error=error.error_code,
                  status=error.status)
        raise StartFailed(order) from None
    order.order_ref = answer["orderRef"]
    order.status, order.hint_code, order.started_at = "pending", "outstandingTransaction", ctx.now
    ctx.audit("bankid.started", purpose=PHONE, device=PHONE, order=order.id,
              call_initiator=call_initiator, personal_number=masked(personal_number))
    return order


def expired(order: Order, now: dt.datetime) -> bool:
    return order.started_at is not None and now - order.started_at > ORDER_LIFETIME


def _end(order: Order, status: str, now: dt.datetime, *, hint_code: str | None = None,
         rfa: str | None = None, problem: str | None = None) -> None:
    order.status, order.pending_key, order.ended_at = status, None, now
    order.hint_code = hint_code if hint_code is not None else order.hint_code
    order.rfa, order.problem = rfa, problem


def _claim_collect(ctx: Context, order: Order) -> bool:
    """Whether this request collects now: the first poll in :data:`COLLECT_EVERY` does."""
    due = ctx.now - COLLECT_EVERY + COLLECT_SLACK
    claimed = ctx.dbsession.execute(
        update(Order).where(Order.id == order.id, Order.status == "pending",
                            or_(Order.collected_at.is_(None), Order.collected_at <= due))
        .values(collected_at=ctx.now).execution_options(synchronize_session=False)).rowcount
    if claimed:
        order.collected_at = ctx.now
    return bool(claimed)


def poll(ctx: Context, order: Order, *, autostarted: bool = False, mobile: bool = False) -> Order:
    """Bring a pending order up to date: collected if it is time, expired if too old."""
    if order.status != "pending":
        return order
    if expired(order, ctx.now):
        _end(order, "failed", ctx.now, hint_code="expiredTransaction", rfa="RFA8")
        ctx.audit("bankid.failed", purpose=order.purpose, order=order.id,
                  hint_code="expiredTransaction")
        return order
    if not _claim_collect(ctx, order):
        return order
    try:
        answer = ctx.client.collect(order.order_ref)
    except BankIDError as error:
        if error.error_code in ("invalidParameters", "notFound", "unauthorized"):
            _end(order, "failed", ctx.now, rfa="RFA22", problem=error.error_code)
            ctx.audit("bankid.failed", purpose=order.purpose, order=order.id,
                      error=error.error_code)
        else:  # an outage: said, and collected again at the next poll
            order.rfa, order.problem = error_rfa(error.error_code), error.error_code
        return order
    status, hint = answer.get("status"), answer.get("hintCode")
    if status == "pending":
        order.hint_code, order.problem = hint, None
        order.rfa = pending_rfa(hint, autostarted=autostarted, mobile=mobile)
    elif status == "failed":
        _end(order, "failed", ctx.now, hint_code=hint,
             rfa=failed_rfa(hint, qr=order.device == "qr"))
        ctx.audit("bankid.failed", purpose=order.purpose, order=order.id, hint_code=hint)
    elif status == "complete":
        _complete(ctx, order, answer.get("completionData") or {})
    return order


def _complete(ctx: Context, order: Order, completion: dict) -> None:
    """The identification is done: whose it is, by the personal number, and what it does
    (sign-in finds the user, step-up must be the user's own number, linking links it)."""
    try:
        number = validate(str((completion.get("user") or {}).get("personalNumber", "")),
                          ctx.now.date())
    except InvalidPersonalNumber:
        _end(order, "failed", ctx.now, rfa="RFA22", problem="invalidParameters")
        ctx.audit("bankid.failed", purpose=order.purpose, order=order.id,
                  error="personal_number")
        return
    found = identities.find(ctx.dbsession, ctx.registry, number)
    if order.purpose == PHONE:
        _identified_on_phone(ctx, order, number, completion, found)
        return
    problem = None
    if order.purpose == "sign_in":
        if found is None:
            problem = UNKNOWN
        else:
            order.user_id = found.user_id
    elif order.purpose in ("step_up", "sign"):
        if found is None or found.user_id != order.user_id:
            problem = NOT_YOURS
    elif order.purpose == "link":
        try:
            found = identities.link(ctx.dbsession, ctx.registry, order.user_id, number,
                                    ctx.now, confirmed=True)
        except identities.LinkedElsewhere:
            problem = ELSEWHERE
    if problem is not None:
        _end(order, "failed", ctx.now, problem=problem)
        ctx.audit("bankid.failed", purpose=order.purpose, order=order.id, problem=problem,
                  user_id=order.user_id)
        return
    if found.confirmed_at is None:  # a number an admin entered, now proven by its owner
        found.confirmed_at = ctx.now
        ctx.audit("bankid.linked", user_id=found.user_id, confirmed_registration=True)
    elif order.purpose == "link":
        ctx.audit("bankid.linked", user_id=found.user_id)
    if order.purpose == "sign":
        _keep_signature(ctx, order, completion)
    _end(order, "complete", ctx.now, hint_code="")
    ctx.audit("bankid.completed", purpose=order.purpose, order=order.id,
              user_id=order.user_id)


def _identified_on_phone(ctx: Context, order: Order, number: str, completion: dict,
                         found) -> None:
    """The caller is who BankID says: shown to the operator with the account it is linked
    to, if any (the number must be the one asked for)."""
    if number != order.phone_number:
        _end(order, "failed", ctx.now, rfa="RFA22", problem="invalidParameters")
        ctx.audit("bankid.failed", purpose=PHONE, order=order.id, error="personal_number")
        return
    order.identified_name = str((completion.get("user") or {}).get("name") or "")[:200]
    order.user_id = found.user_id if found is not None and found.confirmed_at else None
    _end(order, "complete", ctx.now, hint_code="")
    ctx.audit("bankid.phone_identified", order=order.id, personal_number=masked(number),
              user_id=order.user_id)


def _keep_signature(ctx: Context, order: Order, completion: dict) -> None:
    """BankID's evidence, kept with the signed text: the XML signature and OCSP response as
    sent, the rest of the completion data encrypted (it names the personal number)."""
    signature = ctx.dbsession.scalars(select(Signature).where(
        Signature.order_id == order.id)).one()
    user = completion.get("user") or {}
    signature.status, signature.signed_at = "complete", ctx.now
    signature.signer_name = str(user.get("name") or "")[:200]
    signature.signature = completion.get("signature")
    signature.ocsp_response = completion.get("ocspResponse")
    signature.completion = json.dumps({key: value for key, value in completion.items()
                                       if key not in ("signature", "ocspResponse")})
    ctx.audit("bankid.signed", order=order.id, signature=signature.id,
              purpose=signature.purpose, user_id=order.user_id)


def cancel(ctx: Context, order: Order) -> None:
    """Cancel a pending order at BankID (the person left, closed the dialog or started
    again); BankID's refusal (already ended) changes nothing here."""
    if order.status not in ("pending", "starting"):
        return
    if order.order_ref:
        try:
            ctx.client.cancel(order.order_ref)
        except BankIDError as error:
            log.info("BankID cancel of order %s: %s", order.id, error.error_code)
    _end(order, "cancelled", ctx.now, hint_code="cancelled", rfa="RFA3")
    ctx.audit("bankid.cancelled", purpose=order.purpose, order=order.id)


def finishable(order: Order, now: dt.datetime) -> bool:
    """A completed order not finished yet, and not too long ago."""
    return (order.status == "complete" and order.finished_at is None
            and order.ended_at is not None and now - order.ended_at <= FINISH_WITHIN)
