"""Jinja2 templates compiled once per language.

Most text on a page is a constant ``{{ _("...") }}``. Looking each one up on every
render costs more than the rest of a small page, so every language gets its own
overlay of the Jinja2 environment, whose templates are compiled with each
``_("literal")`` already replaced by its translation (escaped once, at compile
time). Calls with variables, ``ngettext`` and translation strings from Python keep
going through :func:`mypages.i18n.jinja_gettext` at render time.
"""
from __future__ import annotations

import os

from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from pyramid_jinja2 import IJinja2Environment

from mypages.i18n import DEFAULT_LOCALE, localizer_for, lookup, template_domain


#: compiled templates each language keeps (Jinja2's default)
TEMPLATES_KEPT = 400


class TranslatedConstants(Extension):
    """Turns ``_("literal")`` into the literal's translation while a template is compiled.

    Bound to one language's overlay, which carries its localizer as
    ``mypages_localizer``.
    """

    def filter_stream(self, stream: TokenStream):
        localizer = self.environment.mypages_localizer
        domain = template_domain(stream.name)
        tokens = list(stream)
        index = 0
        while index < len(tokens):
            window = tokens[index:index + 4]
            if (len(window) == 4 and [token.type for token in window] == [
                    "name", "lparen", "string", "rparen"] and window[0].value == "_"
                    and (index == 0 or tokens[index - 1].type != "dot")):
                yield Token(window[0].lineno, "string", lookup(localizer, domain, window[2].value))
                index += 4
            else:
                yield tokens[index]
                index += 1


def language_overlay(registry, locale_name: str, **options):
    """An overlay of the ``.jinja2`` environment that compiles for one language."""
    base = registry.getUtility(IJinja2Environment, name=".jinja2")
    # a cache of its own (by default an overlay starts with a copy of its parent's)
    overlay = base.overlay(extensions=[TranslatedConstants], cache_size=TEMPLATES_KEPT,
                           **options)
    overlay.mypages_registry = registry
    overlay.mypages_locale = locale_name
    overlay.mypages_localizer = localizer_for(registry, locale_name)
    return overlay


def loaded(environment, name: str):
    """The template ``name`` of ``environment``, with its globals in a plain dict.

    Jinja2 chains a template's globals to its environment's (a ``ChainMap``), and every
    render copies them key by key, each lookup trying the empty map first, which costs more
    than a small template's own work. The globals are set at start-up, so
    a copy taken when the template is first loaded (Jinja2 keeps loaded templates) stays
    right."""
    template = environment.get_template(name)
    if type(template.globals) is not dict:
        template.globals = dict(template.globals)
    return template


class LocalizedTemplates:
    """The ``.jinja2`` renderer factory: renders with the overlay of the request's language."""

    def __init__(self):
        self._overlays = {}

    def environment_for(self, registry, locale_name: str):
        overlay = self._overlays.get(locale_name)
        if overlay is None:
            overlay = self._overlays[locale_name] = language_overlay(registry, locale_name)
        return overlay

    def fragment(self, request, name: str, values: dict) -> str:
        """``name`` (an asset spec) rendered with ``values`` and ``request``, in the request's
        language: for a part of a page (a dashboard card), without the renderer machinery a
        whole page goes through (:func:`render_fragment`)."""
        environment = self.environment_for(request.registry, request.locale_name)
        return loaded(environment, name).render(values, request=request)

    def __call__(self, info):
        name, registry = info.name, info.registry
        if ":" not in name and not os.path.isabs(name) and info.package is not None:
            # relative to the view's package
            name = f"{info.package.__name__}:{name}"

        def render(value, system):
            try:
                system.update(value)
            except (TypeError, ValueError) as error:
                raise ValueError(f"renderer was passed non-dictionary as value: {error}")
            request = system.get("request")
            environment = self.environment_for(
                registry, request.locale_name if request is not None else DEFAULT_LOCALE)
            return loaded(environment, name).render(system)

        return render


PAGE_TEMPLATES = "i18n.page_templates"


def render_fragment(request, name: str, values: dict) -> str:
    """A template of a part of a page, as the page's own templates are rendered."""
    return request.registry[PAGE_TEMPLATES].fragment(request, name, values)


class MailTemplates:
    """Plain-text e-mail from Jinja2 templates, in the reader's language.

    A mail template has two blocks, ``subject`` and ``body``; it is compiled for each
    language like a page, with ``_()`` and ``{% trans %}`` in the template's own domain, but
    nothing is HTML-escaped: the text is mail, not a page.
    """

    def __init__(self):
        self._overlays = {}

    def environment_for(self, registry, locale_name: str):
        overlay = self._overlays.get(locale_name)
        if overlay is None:
            overlay = self._overlays[locale_name] = language_overlay(
                registry, locale_name, autoescape=False)
        return overlay

    def render(self, registry, name: str, locale_name: str, values: dict) -> tuple[str, str]:
        """(subject, body) of the template ``name`` (an asset spec such as
        ``mypages_reminders:templates/due.jinja2``). The subject is made one line."""
        template = loaded(self.environment_for(registry, locale_name), name)
        missing = {"subject", "body"} - set(template.blocks)
        if missing:
            raise ValueError(f"the mail template {name} has no block {' or '.join(sorted(missing))}")
        context = template.new_context(values)
        subject = "".join(template.blocks["subject"](context))
        body = "".join(template.blocks["body"](context))
        return " ".join(subject.split()), body.strip() + "\n"


def mail_templates(registry) -> MailTemplates:
    """The application's mail templates (kept in the registry by :mod:`mypages.web`)."""
    return registry["i18n.mail_templates"]
