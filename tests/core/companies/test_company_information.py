"""The Company tab: company admins keep the company's name, organisation number, address,
invoice e-mail, VAT number and default language (mypages.companies.information)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages.companies.models import Company
from mypages.testing.plugin import csrf_token

GOOD = {
    "name": "Ändrat Bolag AB",
    "org_number": "5560360793",
    "street_address": "Storgatan  1",
    "postal_code": "11122",
    "city": "Stockholm",
    "invoice_email": "Faktura@Example.SE",
    "vat_number": "se 5560 3607 9301",
    "default_locale": "en",
}


@pytest.fixture
def company(factory):
    return factory.company(name="Gamla Bolaget AB", org_number="212000-1355",
                           default_locale="sv")


@pytest.fixture
def admin_web(factory, company, signed_in):
    return signed_in(factory.user(company=company, role="admin", locale="en"))


def page(company) -> str:
    return f"/c/{company.id}/settings/company"


def save(web, company, status, **fields):
    form = {"action": "save", "csrf_token": csrf_token(web, page(company)), **fields}
    return web.post(page(company), form, status=status)


def stored(dbsession, company) -> Company:
    dbsession.expire_all()
    return dbsession.get(Company, company.id)


def audited(dbsession, company) -> list[AuditEvent]:
    return dbsession.scalars(select(AuditEvent).where(
        AuditEvent.company_id == company.id,
        AuditEvent.action == "company.information_changed")).all()


def test_company_settings_open_on_the_company_tab_with_change_information(admin_web, company):
    landing = admin_web.get(f"/c/{company.id}/settings/", status=303)
    assert landing.location.endswith(page(company))
    shown = admin_web.get(page(company))
    tab = shown.html.select_one('nav.tabs a[aria-current="page"]')
    assert (tab.text, tab["href"]) == ("Company", page(company))
    assert shown.html.select_one("#value-name").text == "Gamla Bolaget AB"
    change = shown.html.select_one("#change-information")
    assert change.text == "Change information"
    form = admin_web.get(change["href"]).html.select_one("#information-form")
    assert form.select_one("#field-org_number")["value"] == "212000-1355"


def test_an_admin_saves_the_information_normalised_and_audited(admin_web, company, dbsession):
    done = save(admin_web, company, 303, **GOOD).follow()

    row = stored(dbsession, company)
    assert (row.name, row.org_number, row.street_address, row.postal_code, row.city,
            row.invoice_email, row.vat_number, row.default_locale) == (
        "Ändrat Bolag AB", "556036-0793", "Storgatan 1", "111 22", "Stockholm",
        "Faktura@example.se", "SE556036079301", "en")
    assert done.html.select_one('[role="status"]').text == (
        "The company information is saved. Changed: Company name, Organisation number, "
        "Street address, Postal code, City, Invoice e-mail, VAT number, Default language.")
    # what the request reads of the company (CompanyInfo) carries the new fields
    assert done.html.select_one("#value-invoice_email").text == "Faktura@example.se"
    assert done.html.select_one("#value-vat_number").text == "SE556036079301"
    [event] = audited(dbsession, company)
    assert event.details["changed"] == list(GOOD)
    assert event.details["old"]["name"] == "Gamla Bolaget AB"
    assert event.details["new"]["org_number"] == "556036-0793"
    assert event.details["old"]["invoice_email"] is None

    again = save(admin_web, company, 303, **GOOD).follow()
    assert again.html.select_one('[role="status"]').text == (
        "Nothing was changed: the information was already so.")
    assert len(audited(dbsession, company)) == 1


@pytest.mark.parametrize("field, value, message", [
    ("name", "   ", "Type the company's name."),
    ("name", "x" * 201, "Company name: at most 200 characters."),
    ("org_number", "556036-0794", "The organisation number is not valid"),
    ("org_number", "55603607", "The organisation number is not valid"),
    ("vat_number", "SE556036079302", "The VAT number is not valid"),
    ("vat_number", "DE12345", "The VAT number is not valid"),
    ("vat_number", "SE212000135501", "SE556036079301 for this organisation number"),
    ("invoice_email", "faktura@", "Type a valid e-mail address for invoices"),
    ("postal_code", "111<22>", "The postal code may hold"),
    ("default_locale", "de", "Choose one of the languages offered."),
])
def test_bad_input_is_refused_by_field_and_changes_nothing(admin_web, company, dbsession,
                                                           field, value, message):
    refused = save(admin_web, company, 400, **{**GOOD, field: value})


    problem = refused.html.select_one(f"#error-{field}")
    assert message in problem.text
    assert refused.html.select_one(f"#field-{field}")["aria-invalid"] == "true"
    assert message in refused.html.select_one('[role="alert"]').text
    # the form comes back as it was sent, the other fields without a problem
    assert refused.html.select_one("#field-city")["value"] == "Stockholm"
    assert len(refused.html.select(".field-error")) == 1
    row = stored(dbsession, company)
    assert (row.name, row.org_number, row.invoice_email) == ("Gamla Bolaget AB", "212000-1355",
                                                            None)
    assert audited(dbsession, company) == []


def test_problems_are_told_in_the_admins_language(factory, company, signed_in):
    swedish_web = signed_in(factory.user(company=company, role="admin", locale="sv"))
    refused = save(swedish_web, company, 400, **{**GOOD, "org_number": "556036-0794",
                                               "invoice_email": "nej"})
    assert refused.html.select_one("html")["lang"] == "sv"
    assert "Organisationsnumret är inte giltigt" in refused.html.select_one(
        "#error-org_number").text
    assert "Ange en giltig e-postadress för fakturor" in refused.html.select_one(
        "#error-invoice_email").text


def test_an_organisation_number_of_another_company_is_refused(admin_web, company, factory,
                                                              dbsession):
    factory.company(name="Upptaget AB", org_number="556036-0793")
    refused = save(admin_web, company, 400, **GOOD)
    assert "Another company here is registered with this organisation number" in (
        refused.html.select_one("#error-org_number").text)
    assert stored(dbsession, company).name == "Gamla Bolaget AB"
    assert audited(dbsession, company) == []


def test_a_sole_traders_personal_number_is_accepted_and_kept_out_of_the_audit_trail(
        admin_web, company, dbsession):
    save(admin_web, company, 303, **{**GOOD, "org_number": "811218-9876",
                                     "vat_number": "SE811218987601"})

    assert stored(dbsession, company).org_number == "811218-9876"
    [event] = audited(dbsession, company)
    assert "org_number" in event.details["changed"]
    assert "org_number" not in event.details["old"] and "org_number" not in event.details["new"]
    # nor the VAT number made of it
    assert "vat_number" in event.details["changed"]
    assert "811218" not in str(event.details)


def test_another_eu_countrys_vat_number_and_empty_optional_fields(admin_web, company,
                                                                   dbsession):
    save(admin_web, company, 303, name="Bolaget AB", org_number="", street_address="",
         postal_code="", city="", invoice_email="", vat_number="de 136 695 976",
         default_locale="fi")
    row = stored(dbsession, company)
    assert (row.org_number, row.vat_number, row.invoice_email, row.default_locale) == (
        None, "DE136695976", None, "fi")


def test_members_cannot_see_or_change_the_company_information(factory, company, signed_in,
                                                              dbsession):
    member_web = signed_in(factory.user(company=company))
    dashboard = member_web.get(f"/c/{company.id}/")
    assert dashboard.html.select(f'a[href^="/c/{company.id}/settings/"]') == []
    member_web.get(page(company), status=403)
    token = csrf_token(member_web, f"/c/{company.id}/")
    member_web.post(page(company), {"action": "save", "csrf_token": token, **GOOD}, status=403)
    assert stored(dbsession, company).name == "Gamla Bolaget AB"


def test_a_form_without_its_csrf_token_changes_nothing(admin_web, company, dbsession):
    admin_web.post(page(company), {"action": "save", **GOOD}, status=400)
    admin_web.post(page(company), {"action": "save", "csrf_token": "forged", **GOOD},
                   status=400)
    assert stored(dbsession, company).name == "Gamla Bolaget AB"


def test_an_unknown_action_is_refused(admin_web, company, dbsession):
    refused = admin_web.post(page(company), {"action": "drop", "csrf_token": csrf_token(
        admin_web, page(company)), **GOOD}, status=400)
    assert "Unknown action." in refused.text
    assert stored(dbsession, company).name == "Gamla Bolaget AB"
