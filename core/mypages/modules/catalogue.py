"""The module catalogue: what every enabled plugin offers, gathered once at start-up."""
from __future__ import annotations

import re

from mypages.plugins import CompanyHookCallers, PluginError

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class Catalogue:
    def __init__(self, modules: dict, owners: dict[str, str]):
        self.modules = modules  # key -> Module, in the order offered
        self.owners = owners    # key -> plugin name

    def get(self, key: str):
        return self.modules.get(key)

    def __iter__(self):
        return iter(self.modules.values())

    def __len__(self):
        return len(self.modules)


def build_catalogue(pm) -> Catalogue:
    modules, owners = {}, {}
    for impl in reversed(pm.hook.mypages_modules.get_hookimpls()):
        try:
            offered = impl.function() or []
        except Exception as exc:
            raise PluginError(impl.plugin_name, f"mypages_modules failed: {exc!r}") from exc
        for module in offered:
            if not KEY_PATTERN.match(module.key):
                raise PluginError(impl.plugin_name, f"module key {module.key!r} is not "
                                  "lower-case letters, digits and underscores")
            if module.key in owners:
                raise PluginError(impl.plugin_name, f"module key {module.key!r} is already "
                                  f"offered by {owners[module.key]!r}")
            if module.trial_days < 0:
                raise PluginError(impl.plugin_name, f"module {module.key!r} has a negative trial")
            modules[module.key] = module
            owners[module.key] = impl.plugin_name
    return Catalogue(modules, owners)


def build_on_ready(registry) -> None:
    pm = registry["plugins.manager"]
    catalogue = build_catalogue(pm)
    registry["modules.catalogue"] = catalogue
    registry["plugins.company_hooks"] = CompanyHookCallers(
        pm, catalogue.owners, frozenset(registry.get("plugins.core", ())))
