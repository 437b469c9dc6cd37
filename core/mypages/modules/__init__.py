"""Modules: the catalogue offered by plugins, each company's activations and the trial."""
from __future__ import annotations

from mypages.companies import CompanyContext
from mypages.i18n import _
from mypages.modules.catalogue import build_on_ready


class ModulePredicate:
    """View predicate ``module="key"``: the view exists only for companies entitled to it.

    A company that is not entitled gets a 404 page that names the module and says how to
    activate it (:func:`missing_module`). The predicate only answers; it leaves nothing on the
    request.
    """

    def __init__(self, key: str, config):
        self.key = key

    def text(self):
        return f"module = {self.key}"

    phash = text

    def __call__(self, context, request):
        return request.company is not None and self.key in request.entitled_modules


def missing_module(request):
    """The module (from the catalogue) that the views of the request's route need and its
    company is not entitled to, or None: what a "Page not found" on a company page means."""
    if request.company is None or request.matched_route is None:
        return None
    needed = request.registry["modules.by_route"].get(request.matched_route.name, ())
    for key in needed:
        if key not in request.entitled_modules:
            return request.registry["modules.catalogue"].get(key)
    return None


def _map_routes(registry) -> None:
    """Route name -> the module keys its views need, from the configured views."""
    by_route: dict[str, tuple[str, ...]] = {}
    for view in registry.introspector.get_category("views"):
        introspectable = view["introspectable"]
        key, route_name = introspectable.get("module"), introspectable.get("route_name")
        if key is not None and route_name is not None and key not in by_route.get(route_name, ()):
            by_route[route_name] = (*by_route.get(route_name, ()), key)
    registry["modules.by_route"] = by_route


def _entitled_modules(request) -> frozenset[str]:
    """The modules the request's company is entitled to, as read with the company page."""
    context = getattr(request, "context", None)
    return context.entitled_modules if isinstance(context, CompanyContext) else frozenset()


def explain_not_found(request) -> dict | None:
    """The "Page not found" of a company page whose module the company is not entitled to
    names the module and says how to activate it."""
    missing = missing_module(request)
    if missing is None:
        return None
    return {"title": _("Module not active"), "reason": "module-not-active",
            "message": _("The module \"${module}\" is not active for ${company}. An admin can "
                         "activate it under Company settings.",
                         mapping={"module": request.translate(missing.title),
                                  "company": request.company.name})}


def _company_hooks(request):
    """Hook callers with only the plugins this company is entitled to."""
    return request.registry["plugins.company_hooks"].for_modules(request.entitled_modules)


def includeme(config):
    config.add_view_predicate("module", ModulePredicate)
    # once every view is configured (views are registered at the default order, 0)
    config.action(("mypages", "modules.by_route"), lambda: _map_routes(config.registry),
                  order=10)
    config.add_request_method(_entitled_modules, "entitled_modules", reify=True)
    config.add_request_method(_company_hooks, "company_hooks", reify=True)
    config.add_not_found_explanation(explain_not_found)
    config.register_core_hooks("core.modules", "mypages.modules.hooks")
    config.on_plugins_ready(build_on_ready)
    config.add_company_route("company_modules", "/settings/modules")
    config.add_company_route("module_action", "/settings/modules/{module_key}/{action}",
                             request_method="POST")
    # the same addresses read (GET): the purchase's summary, the deactivation's confirmation
    config.add_company_route("module_purchase", "/settings/modules/{module_key}/buy",
                             request_method="GET")
    config.add_company_route("module_deactivate_confirm",
                             "/settings/modules/{module_key}/deactivate", request_method="GET")
    # where the admin comes back once the order is signed (a company that requires it)
    config.add_company_route("module_signed", "/settings/modules/{module_key}/signed",
                             request_method="GET")
    config.scan(".views")
