"""Every help text of a core page's form is tied to its field (aria-describedby), so a
screen reader reads it with the field."""
from __future__ import annotations

import pytest

from mypages.testing.plugin import enrol_two_factor


@pytest.mark.parametrize("path, fields_only", [
    ("/c/{company}/settings/security", False),
    ("/account/password", False),
    # the connection form's own instructions (the redirect URI) are not a field's
    ("/c/{company}/settings/sso?provider=azure&protocol=oidc", True),
])
def test_every_help_text_of_a_form_describes_a_field(factory, signed_in, modules, path,
                                                     fields_only):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    modules.activate(company, "sso")
    browser = signed_in(admin)
    enrol_two_factor(browser)
    page = browser.get(path.format(company=company.id))
    helps = [p for form in page.html.find_all("form") for p in form.find_all(class_="help")
             if not fields_only or p.get("id", "").startswith("help-")]
    assert helps, "no help text on the page"
    described = {ref for field in page.html.select("[aria-describedby]")
                 for ref in field["aria-describedby"].split()}
    for help_text in helps:
        assert help_text.get("id") in described, help_text.text[:80]
