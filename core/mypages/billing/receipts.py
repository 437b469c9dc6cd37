"""The receipt of an order, e-mailed to the buyer and the company's other admins, each in
their language (their own, else the company's default)."""
from __future__ import annotations

from mypages.contract import Price, QueuedJobType
from mypages.i18n import _
from mypages.modules.models import Order
from mypages.modules.terms import RECEIPT_JOB, order_amounts
from mypages.people.mail import mail_company_admins, mail_user

SUBJECT = _("Receipt: ${module} for ${company}")
BODY = _("Thank you for your order.\n\n"
         "Order number: ${number}\n"
         "Module: ${module}\n"
         "Price per month excluding VAT: ${excluding}\n"
         "VAT ${percent} %: ${vat}\n"
         "Price per month including VAT: ${including}\n"
         "Billed from: ${starts}\n\n"
         "The module is billed monthly, afterwards, for the days it is on. There is no notice "
         "period: billing stops on the day an admin deactivates the module. The order history "
         "is under Company settings > Billing.")


def receipt_values(registry, order: Order) -> dict:
    module = registry["modules.catalogue"].get(order.module_key)
    amounts = order_amounts(order)
    none = "-"
    return {"module": module.title if module is not None else order.module_key,
            "number": str(order.id), "starts": order.starts_at or order.created_at,
            "excluding": Price(amounts.excluding, amounts.currency) if amounts else none,
            "vat": Price(amounts.vat, amounts.currency) if amounts else none,
            "including": Price(amounts.including, amounts.currency) if amounts else none,
            "percent": amounts.vat_percent.normalize() if amounts else none}


def send_receipt(job) -> None:
    """Safe to run again: a second run sends the same receipt."""
    order = job.dbsession.get(Order, job.payload["order_id"])
    if order is None:
        return
    values = receipt_values(job.registry, order)
    if order.ordered_by_id is not None:
        mail_user(job, order.ordered_by_id, SUBJECT, BODY, values=values,
                  company_id=order.company_id)
    mail_company_admins(job, order.company_id, SUBJECT, BODY, values=values,
                        skip_user_id=order.ordered_by_id)


JOBS = [QueuedJobType(RECEIPT_JOB, send_receipt)]
