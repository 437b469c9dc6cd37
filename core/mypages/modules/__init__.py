"""Modules: the catalogue offered by plugins, each company's activations and the trial."""
from __future__ import annotations

from mypages.modules.catalogue import build_on_ready
from mypages.modules.lifecycle import entitled_keys


class ModulePredicate:
    """View predicate ``module="key"``: the view exists only for companies entitled to it.

    A company that is not entitled gets a 404 page that names the module and
    says how to activate it.
    """

    def __init__(self, key: str, config):
        self.key = key

    def text(self):
        return f"module = {self.key}"

    phash = text

    def __call__(self, context, request):
        if request.company is not None and self.key in request.entitled_modules:
            return True
        request.missing_module = request.registry["modules.catalogue"].get(self.key)
        return False


def _entitled_modules(request) -> frozenset[str]:
    company = request.company
    return entitled_keys(request.dbsession, company.id) if company is not None else frozenset()


def _company_hooks(request):
    """Hook callers with only the plugins this company is entitled to."""
    return request.registry["plugins.company_hooks"].for_modules(request.entitled_modules)


def includeme(config):
    config.add_view_predicate("module", ModulePredicate)
    config.add_request_method(_entitled_modules, "entitled_modules", reify=True)
    config.add_request_method(_company_hooks, "company_hooks", reify=True)
    config.register_core_hooks("core.modules", "mypages.modules.hooks")
    config.on_plugins_ready(build_on_ready)
    config.add_company_route("company_modules", "/settings/modules")
    config.add_company_route("module_action", "/settings/modules/{module_key}/{action}",
                             request_method="POST")
    config.scan(".views")
