"""Billing for company admins: the Billing tab with the company's orders and terms, the
confirmation page of an order, and the receipt e-mailed to the company's admins.

Above ``modules`` (orders and the terms) and ``people`` (e-mail to a company's admins).
"""
from __future__ import annotations


def includeme(config):
    config.register_core_hooks("core.billing", "mypages.billing.hooks")
    config.add_company_route("company_billing", "/settings/billing")
    config.add_company_route("company_order", "/settings/billing/orders/{order_id}")
    config.scan(".views")
