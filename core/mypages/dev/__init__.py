"""Development features: plugins' offline stand-ins under ``/_dev/``, with
``mypages.dev_features`` only.

Each plugin's :class:`~mypages.contract.DevApp` (hook ``mypages_dev_apps``) is
mounted at ``/_dev/<name>/``; ``/_dev/`` lists them all. Production refuses to
start with ``mypages.dev_features`` (mypages.settings) and with a development-only
plugin enabled (mypages.plugins), and without the setting none of these routes
exist: every ``/_dev/`` address is the ordinary 404.

A stand-in's WSGI application is made on its first request (keys take a moment to
make) and kept for the process: the stand-ins keep their state in memory, so one
process only, which answers several requests at once (waitress does), since the
app calls its own stand-ins over HTTP.
"""
from __future__ import annotations

import re
import threading

from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationString
from pyramid.request import call_app_with_subpath_as_path_info

from mypages.contract import DevApp
from mypages.plugins import PluginError
from mypages.services import settings_of

MOUNT = "/_dev"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
REGISTRY_KEY = "dev.apps"


class DevApps:
    """The stand-ins by name, in the order the index lists them; their WSGI
    applications made on first use."""

    def __init__(self, apps: dict[str, DevApp]):
        self.apps = apps
        self._made: dict = {}
        self._lock = threading.Lock()

    def wsgi_app(self, name: str, url: str):
        with self._lock:
            if name not in self._made:
                self._made[name] = self.apps[name].app(url)
            return self._made[name]


def dev_app_url(where, name: str) -> str:
    """Where stand-in ``name`` is served: ``<mypages.base_url>/_dev/<name>``, the address the
    application itself calls it at (``where``: a request or the registry)."""
    return f"{settings_of(where).base_url}{MOUNT}/{name}"


def collect(pm) -> dict[str, DevApp]:
    """Every enabled plugin's stand-ins; a bad or doubled name stops start-up."""
    apps, owners = {}, {}
    for impl in reversed(pm.hook.mypages_dev_apps.get_hookimpls()):
        for app in impl.function() or []:
            if not NAME.match(app.name or ""):
                raise PluginError(impl.plugin_name, f"development stand-in name {app.name!r} is "
                                  "not one path segment of a-z, 0-9 and -")
            if app.name in apps:
                raise PluginError(impl.plugin_name, f"development stand-in {app.name!r} is "
                                  f"offered by plugin {owners[app.name]!r} too")
            if (app.app is None) == (app.include is None):
                raise PluginError(impl.plugin_name, f"development stand-in {app.name!r} needs "
                                  "exactly one of app and include")
            apps[app.name], owners[app.name] = app, impl.plugin_name
    return apps


def _rows(request, app: DevApp) -> list[tuple[str, str, bool]]:
    """(label, value, whether the value is words) per detail: a translation string is
    words to translate, anything else a value to type, shown as code."""
    translate = request.localizer.translate
    return [(translate(label), translate(value) if isinstance(value, TranslationString)
             else str(value), isinstance(value, TranslationString))
            for label, value in (app.details(request) if app.details else [])]


def index_view(request):
    """Every stand-in, with what its plugin says to type where."""
    apps = request.registry[REGISTRY_KEY].apps
    return {"stand_ins": [{"name": app.name, "path": f"{MOUNT}/{app.name}/", "title": app.title,
                           "description": app.description, "details": _rows(request, app)}
                          for app in apps.values()]}


def app_view(request):
    """Hands the request to the stand-in's WSGI application, which sees the rest of the
    path as its own; an unknown name is the ordinary 404."""
    name = request.matchdict["name"]
    dev_apps = request.registry[REGISTRY_KEY]
    app = dev_apps.apps.get(name)
    if app is None or app.app is None:
        raise HTTPNotFound()
    return call_app_with_subpath_as_path_info(request,
                                              dev_apps.wsgi_app(name, dev_app_url(request, name)))


def includeme(config):
    if not settings_of(config).dev_features:
        return
    apps = collect(config.registry["plugins.manager"])
    config.registry[REGISTRY_KEY] = DevApps(apps)
    config.add_route("dev_index", f"{MOUNT}/")
    config.add_view(index_view, route_name="dev_index", request_method="GET",
                    renderer="mypages:templates/dev_index.jinja2")
    for app in apps.values():
        if app.include is not None:
            config.include(app.include, route_prefix=f"{MOUNT}/{app.name}")
    # after the includes' routes, so theirs match first
    config.add_route("dev_app", MOUNT + "/{name}/*subpath")
    # stand-ins of token endpoints take posts from the app itself, authenticated as OAuth does
    config.add_view(app_view, route_name="dev_app", require_csrf=False)
