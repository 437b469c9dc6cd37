"""The web layer shared by every page: layout, static files, headers, errors."""
from __future__ import annotations

from mypages.i18n import LANGUAGE_NAMES, LANGUAGES, install_jinja_i18n

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


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.extensions", "jinja2.ext.i18n\njinja2.ext.do")
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.undefined", "strict")
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    install_jinja_i18n(config)
    config.action(("mypages", "jinja-globals"), lambda: config.get_jinja2_environment().globals.update(
        LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES), order=10)
    config.add_static_view("static", "mypages:static/", cache_max_age=3600)
    config.registry["web.paths"] = {}
    config.add_request_method(path_for, "path_for")
    config.add_tween("mypages.web.security_headers_tween_factory")
    config.add_route("home", "/")
    config.add_route("set_locale", "/locale")
    config.scan(".views")
