"""Templates compiled once per language (mypages.i18n.templates)."""
from __future__ import annotations

from pyramid.interfaces import IRendererFactory

LAYOUT = "mypages:templates/layout.jinja2"


def environment(app, locale: str):
    return app.registry.getUtility(IRendererFactory, name=".jinja2").environment_for(
        app.registry, locale)


def compiled(app, locale: str, source: str, name: str = LAYOUT) -> str:
    return environment(app, locale).compile(source, name, raw=True)


def test_constant_texts_are_translated_when_the_template_is_compiled(app):
    source = '<button>{{ _("Sign out") }}</button>'
    assert "<button>Logga ut</button>" in compiled(app, "sv", source)
    assert "<button>Sign out</button>" in compiled(app, "en", source)
    assert "<button>Kirjaudu ulos</button>" in compiled(app, "fi", source)


def test_each_language_keeps_its_own_compiled_templates(app):
    swedish, english = environment(app, "sv"), environment(app, "en")
    assert swedish is environment(app, "sv") and swedish is not english
    assert swedish.get_template(LAYOUT) is not english.get_template(LAYOUT)


def test_a_translation_is_escaped_once_at_compile_time(app):
    # "Change" is "Byt" in Swedish; what matters is that it passed through escape()
    code = compiled(app, "sv", '<a title="{{ _("Change") }}">')
    assert '<a title="Byt">' in code and "escape(" not in code


def test_calls_with_values_and_other_functions_are_left_to_render_time(app, request_in):
    template = environment(app, "en").from_string(
        '{{ _("Trial: %(num)s day left (until %(date)s).", num=3, date="today") }}'
        '|{{ helper._("Sign out") }}|{{ _(name) }}')
    helper = type("Helper", (), {"_": staticmethod(lambda text: f"untouched {text}")})
    text = template.render(request=request_in("en"), helper=helper, name="Sign out")
    assert text == "Trial: 3 day left (until today).|untouched Sign out|Sign out"


def test_a_loaded_template_keeps_its_globals_in_a_plain_dict_with_the_same_values(app):
    """Jinja2 chains a template's globals to its environment's, and each render copies the
    chain key by key; the template loaded for pages keeps them flat, overrides included."""
    from mypages.i18n.templates import language_overlay, loaded

    overlay = language_overlay(app.registry, "en")  # its own cache: the pages' stay as they are
    chained = overlay.get_template(LAYOUT, globals={"_": "the template's own"})
    assert type(chained.globals) is not dict
    expected = dict(chained.globals)
    template = loaded(overlay, LAYOUT)
    assert template is chained and type(template.globals) is dict
    assert template.globals == expected and template.globals["_"] == "the template's own"
