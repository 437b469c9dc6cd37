"""The web layer shared by every page: layout, static files, headers, input, errors."""
from __future__ import annotations

import functools

from markupsafe import Markup
from pyramid.encode import url_quote, urlencode
from pyramid.request import Request
from pyramid.tweens import EXCVIEW, INGRESS
from pyramid.url import QUERY_SAFE

from mypages.i18n import LANGUAGE_NAMES, LANGUAGES, install_jinja_i18n
from mypages.i18n.templates import PAGE_TEMPLATES, LocalizedTemplates, MailTemplates
from mypages.web.errors import LastResort
from mypages.web.headers import CSP, security_headers, security_headers_tween_factory
from mypages.web.inputs import IdsPredicate, path_ok, text_only_view

__all__ = ["CSP", "LastResort", "security_headers", "security_headers_tween_factory"]

def here(request) -> str:
    """This page's path and query, for the language switcher to come back to; the start page
    if the path itself was refused (not UTF-8, or with control characters)."""
    environ = request.environ
    if not path_ok(environ):
        return request.script_name + "/"
    address = (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
               environ.get("QUERY_STRING", ""))
    if sum(map(len, address)) > LONGEST_REMEMBERED_ADDRESS:
        return request.path_qs
    return _path_qs(*address)


#: the longest address whose path and query :func:`here` remembers
LONGEST_REMEMBERED_ADDRESS = 512


@functools.lru_cache(maxsize=4096)
def _path_qs(script_name: str, path_info: str, query_string: str) -> str:
    """WebOb's ``path_qs`` of an address, remembered: it quotes the path character by
    character, and a signed-in person goes back to the same few pages."""
    return Request({"SCRIPT_NAME": script_name, "PATH_INFO": path_info,
                    "QUERY_STRING": query_string}).path_qs


def path_for(request, name: str, **kw) -> str:
    """``request.route_path``, remembered: a route and its arguments always make the same path,
    and a page links to a dozen of them. A ``_query`` is added to the remembered path as
    Pyramid adds it."""
    if "_anchor" in kw:
        return request.route_path(name, **kw)
    query = kw.pop("_query", None)
    if query:
        return path_for(request, name, **kw) + (
            "?" + url_quote(query, QUERY_SAFE) if isinstance(query, str)
            else "?" + urlencode(query, doseq=True))
    cache = request.registry["web.paths"]
    key = (name, *sorted(kw.items()))
    found = cache.get(key)
    if found is None:
        if len(cache) > 100_000:
            cache.clear()
        found = cache[key] = request.route_path(name, **kw)[len(request.script_name):]
    return _script_name(request) + found


def static_path_for(request, spec: str) -> str:
    """``request.static_path``, remembered like :func:`path_for`."""
    cache = request.registry["web.paths"]
    found = cache.get(spec)
    if found is None:
        found = cache[spec] = request.static_path(spec)[len(request.script_name):]
    return _script_name(request) + found


def _script_name(request) -> str:
    """``request.script_name``, which WebOb decodes from the WSGI environ's Latin-1 at every
    access: a page makes a dozen links, and an ASCII mount prefix (or none) reads the same
    decoded or not."""
    raw = request.environ.get("SCRIPT_NAME", "")
    return raw if raw.isascii() else request.script_name


#: what the layout links to on every page, whoever is signed in: route names without
#: arguments, and static files (``request.layout_links[name or spec]``)
LAYOUT_ROUTES = ("home", "companies", "notifications", "operator", "account", "logout",
                 "set_locale")
LAYOUT_FILES = ("mypages:static/mypages.css", "mypages:static/favicon.svg",
                "mypages:static/mypages.js")


def layout_links(request) -> dict[str, str]:
    """``request.layout_links``: the paths of :data:`LAYOUT_ROUTES` and :data:`LAYOUT_FILES`,
    made once for each mount prefix. A call from a template costs more than the path it
    makes, and the layout would make ten of them on every page."""
    cache = request.registry["web.paths"]
    key = ("layout", _script_name(request))
    found = cache.get(key)
    if found is None:
        found = cache[key] = {
            **{name: path_for(request, name) for name in LAYOUT_ROUTES},
            **{spec: static_path_for(request, spec) for spec in LAYOUT_FILES}}
    return found


@functools.cache
def language_options(current: str) -> Markup:
    """The ``<option>``s of the language switcher, ``current`` selected: the same for every
    page in a language."""
    return Markup("").join(
        Markup('<option value="{0}" lang="{0}"{1}>{2}</option>').format(
            code, Markup(" selected") if code == current else "", LANGUAGE_NAMES[code])
        for code in LANGUAGES)


def add_not_found_explanation(config, explain) -> None:
    """Directive: ``explain(request)`` gives the values of the error page when it knows why
    there was no page (a company's module is not active, say), else None. Asked in the order
    added, before "Page not found"."""
    config.registry["web.not_found_explanations"].append(explain)


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.extensions", "jinja2.ext.i18n\njinja2.ext.do")
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.undefined", "strict")
    config.include("pyramid_jinja2")
    config.registry[PAGE_TEMPLATES] = templates = LocalizedTemplates()
    config.add_renderer(".jinja2", templates)
    config.registry["i18n.mail_templates"] = MailTemplates()
    install_jinja_i18n(config)
    config.action(("mypages", "jinja-globals"), lambda: config.get_jinja2_environment().globals.update(
        LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, language_options=language_options),
        order=10)
    config.add_static_view("static", "mypages:static/", cache_max_age=3600)
    config.registry["web.paths"] = {}
    config.registry["web.not_found_explanations"] = []
    config.add_directive("add_not_found_explanation", add_not_found_explanation)
    config.add_request_method(here, "here", reify=True)
    config.add_request_method(path_for, "path_for")
    config.add_request_method(static_path_for, "static_path_for")
    config.add_request_method(layout_links, "layout_links", reify=True)
    # outermost: the headers go on every answer, exception views' included
    config.add_tween("mypages.web.headers.security_headers_tween_factory", under=INGRESS)
    # innermost: bad input is refused before routing, and the refusal is an exception view
    config.add_tween("mypages.web.inputs.input_tween_factory", under=EXCVIEW)
    # before anything reads a body: one that is too long is refused unread
    config.add_tween("mypages.web.body_limit.body_limit_tween_factory", under=EXCVIEW,
                     over="mypages.web.inputs.input_tween_factory")
    config.add_view_deriver(text_only_view, under="secured_view", over="csrf_view")
    config.add_route_predicate("ids", IdsPredicate)
    config.include(".forms")     # the form_action= view predicate
    config.include(".refusals")  # the one view that shows refusals; refusal_page=
    config.add_route("home", "/")
    config.add_route("set_locale", "/locale")
    config.scan(".views")
