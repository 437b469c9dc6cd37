"""Five modules with one dashboard card each, for the benchmark only.

One plugin offering several modules gets its hooks called when the company
is entitled to any of them (the core filters per plugin), so the cards hook
filters per module itself.
"""
from decimal import Decimal

from pyramid.response import Response

from mypages.toolkit import DashboardCard, Module, Price, TranslationStringFactory, hookimpl

_ = TranslationStringFactory("mypages_bench_modules")

mypages_hookspec = "2.0"

MODULE_KEYS = ("bench_invoices", "bench_contracts", "bench_reports", "bench_contacts",
               "bench_payments")


@hookimpl
def mypages_modules():
    return [Module(key=key, title=_(key), description=_("Benchmark module ${key}.",
                                                        mapping={"key": key}),
                   price=Price(Decimal("99"), "SEK", per=_("per month")))
            for key in MODULE_KEYS]


@hookimpl
def mypages_dashboard_cards(request, company):
    entitled = request.entitled_modules
    return [DashboardCard(_(key), _("Card of ${key} for ${company}.",
                                    mapping={"key": key, "company": company.name}),
                          route_name=key, order=index)
            for index, key in enumerate(MODULE_KEYS) if key in entitled]


def module_page(request):
    return Response(request.matched_route.name, content_type="text/plain")


def includeme(config):
    for key in MODULE_KEYS:
        config.add_company_route(key, f"/{key}")
        config.add_view(module_page, route_name=key, module=key, permission="company.view")
