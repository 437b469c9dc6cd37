"""The web layer shared by every page: layout, static files, headers, errors."""
from __future__ import annotations

import functools

from markupsafe import Markup

from mypages.i18n import LANGUAGE_NAMES, LANGUAGES, install_jinja_i18n
from mypages.i18n.templates import LocalizedTemplates

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def security_headers_tween_factory(handler, registry):
    production = registry.settings["mypages.environment"] == "production"

    def security_headers_tween(request):
        response = handler(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.__dict__.get("user") is not None:
            headers.setdefault("Cache-Control", "private, no-store")
        return response

    return security_headers_tween


def path_for(request, name: str, **kw) -> str:
    """``request.route_path``, remembered: a route and its arguments always make the same path,
    and a page links to a dozen of them."""
    if "_query" in kw or "_anchor" in kw:
        return request.route_path(name, **kw)
    cache = request.registry["web.paths"]
    key = (name, *sorted(kw.items()))
    found = cache.get(key)
    if found is None:
        if len(cache) > 100_000:
            cache.clear()
        found = cache[key] = request.route_path(name, **kw)[len(request.script_name):]
    return request.script_name + found


def static_path_for(request, spec: str) -> str:
    """``request.static_path``, remembered like :func:`path_for`."""
    cache = request.registry["web.paths"]
    found = cache.get(spec)
    if found is None:
        found = cache[spec] = request.static_path(spec)[len(request.script_name):]
    return request.script_name + found


@functools.cache
def language_options(current: str) -> Markup:
    """The ``<option>``s of the language switcher, ``current`` selected: the same for every
    page in a language."""
    return Markup("").join(
        Markup('<option value="{0}" lang="{0}"{1}>{2}</option>').format(
            code, Markup(" selected") if code == current else "", LANGUAGE_NAMES[code])
        for code in LANGUAGES)


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.extensions", "jinja2.ext.i18n\njinja2.ext.do")
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.undefined", "strict")
    config.include("pyramid_jinja2")
    config.add_renderer(".jinja2", LocalizedTemplates())
    install_jinja_i18n(config)
    config.action(("mypages", "jinja-globals"), lambda: config.get_jinja2_environment().globals.update(
        LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, language_options=language_options),
        order=10)
    config.add_static_view("static", "mypages:static/", cache_max_age=3600)
    config.registry["web.paths"] = {}
    config.add_request_method(path_for, "path_for")
    config.add_request_method(static_path_for, "static_path_for")
    config.add_tween("mypages.web.security_headers_tween_factory")
    config.add_route("home", "/")
    config.add_route("set_locale", "/locale")
    config.scan(".views")
