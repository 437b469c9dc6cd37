"""The checks of mypages.testing.checks, on this plugin: what `mypages plugin check notes`
runs, as tests of its own."""
from __future__ import annotations

from mypages.testing.checks import (catalog_problems, csrf_problems, entitlement_problems,
                                    hook_problems, migration_problems)
from mypages.testing.web import sign_in


def report(problems) -> str:
    return "\n".join(map(str, problems))


def test_the_catalogs_are_complete_in_every_language():
    assert catalog_problems("notes") == [], report(catalog_problems("notes"))


def test_the_hooks_fit_the_hookspecs():
    assert hook_problems("notes") == []


def test_the_models_match_the_migrations(app, tmp_path):
    problems = migration_problems(app, "mypages-example-notes",
                                  f"sqlite:///{tmp_path}/empty.sqlite")
    assert problems == [], report(problems)


def test_every_post_needs_the_csrf_token(app, testapp, factory, modules):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    modules.buy(company, "notes")
    sign_in(testapp, admin.email)

    problems = csrf_problems(app, testapp, packages=["mypages_example_notes"],
                             placeholders={"company_id": company.id},
                             fields={"text": "Forged", "heading": "Forged"})

    assert problems == [], report(problems)


def test_every_page_answers_as_the_module_goes_through_its_lifecycle(app):
    problems = entitlement_problems(app, "notes", "notes")
    assert problems == [], report(problems)
