"""The terms of buying a module: what it costs and when it is billed (docs/admin/billing.rst).

The terms, the same for every module:

* prices are shown excluding VAT; Swedish VAT (25 %) is added on the invoice;
* a module is billed a month at a time, afterwards, for the days it was on;
* there is no notice period: billing stops on the day the module is deactivated;
* a module bought during its free trial keeps the trial: the paid period starts when
  the trial would have ended, so nothing of the trial is lost.

The core's default billing (``mypages_purchase`` in :mod:`mypages.modules.hooks`) records an
:class:`~mypages.modules.models.Order` with these terms; the operators invoice from it. A
receipt is e-mailed to the buyer and the company's other admins (:mod:`mypages.billing`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from mypages.contract import Module
from mypages.modules.models import ModuleActivation, ModuleState, Order

#: Swedish VAT on software services sold to Swedish companies, in per cent
VAT_PERCENT = Decimal("25")
#: every module is billed by the month
PERIOD = "month"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Amounts:
    """A period's price excluding VAT, the VAT and the total, rounded to the cent."""

    excluding: Decimal
    vat: Decimal
    including: Decimal
    currency: str
    vat_percent: Decimal = VAT_PERCENT

    @classmethod
    def of(cls, amount: Decimal, currency: str, vat_percent: Decimal = VAT_PERCENT) -> "Amounts":
        excluding = Decimal(amount).quantize(CENT, ROUND_HALF_UP)
        vat = (excluding * vat_percent / 100).quantize(CENT, ROUND_HALF_UP)
        return cls(excluding, vat, excluding + vat, currency, vat_percent)


def amounts_of(module: Module) -> Amounts | None:
    return Amounts.of(module.price.amount, module.price.currency) if module.price else None


def order_amounts(order: Order) -> Amounts | None:
    if order.amount is None or order.currency is None:
        return None
    return Amounts.of(order.amount, order.currency, order.vat_percent or VAT_PERCENT)


def paid_from(row: ModuleActivation | None, now: dt.datetime) -> dt.datetime:
    """When the paid period of a module bought ``now`` starts: at the end of a running
    trial, else at once."""
    if (row is not None and row.state == ModuleState.trial and row.trial_ends_at is not None
            and row.trial_ends_at > now):
        return row.trial_ends_at
    return now


def open_order(dbsession, company_id: int, module_key: str) -> Order | None:
    """The company's order of the module that is still billed (no end yet), if any."""
    return dbsession.scalars(select(Order).where(
        Order.company_id == company_id, Order.module_key == module_key, Order.ends_at.is_(None))
        .order_by(Order.id.desc()).limit(1)).first()


def billing_stops(dbsession, company_id: int, module_key: str,
                  now: dt.datetime) -> tuple[dt.datetime | None, bool]:
    """What deactivating the module ``now`` means for billing: (the moment billing stops, or
    None if nothing was ever billed, and whether any paid day was used)."""
    order = open_order(dbsession, company_id, module_key)
    if order is None:
        return None, False
    starts = order.starts_at or order.created_at
    return now, starts < now


def record_order(dbsession, company, module: Module, user, starts_at: dt.datetime) -> Order:
    amounts = amounts_of(module)
    order = Order(company_id=company.id, module_key=module.key,
                  ordered_by_id=user.id if user else None,
                  price=f"{module.price.amount} {module.price.currency}" if module.price else "",
                  amount=amounts.excluding if amounts else None,
                  currency=amounts.currency if amounts else None,
                  vat_percent=amounts.vat_percent if amounts else None,
                  period=PERIOD, starts_at=starts_at)
    dbsession.add(order)
    dbsession.flush()
    return order


def close_order(dbsession, company_id: int, module_key: str, now: dt.datetime) -> None:
    """Billing stops: the open order ends ``now`` (at its start if it never began)."""
    order = open_order(dbsession, company_id, module_key)
    if order is not None:
        order.ends_at = max(now, order.starts_at or now)


#: the queued job that e-mails the receipt of an order (payload: ``order_id``)
RECEIPT_JOB = "modules.receipt_mail"
