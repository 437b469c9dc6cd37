"""Verified domains, as a company admin proves one on the Single Sign On tab, against a real
DNS server on loopback."""
import datetime as dt

import pytest
from sqlalchemy import select

from mypages.db import utcnow
from mypages.sso.models import VerifiedDomain

from enterprise_support import (act, activate_sso, audit_actions, audit_events,  # noqa: F401
                                browser, dns_admin, messages, sign_in_with_password, tab_path)

RECORD = "_mypages-verification.example.se"


def domain_rows(dbsession, company=None):
    dbsession.expire_all()
    query = select(VerifiedDomain).order_by(VerifiedDomain.domain)
    if company is not None:
        query = query.where(VerifiedDomain.company_id == company.id)
    return dbsession.scalars(query).all()


def listed(page, domain):
    return page.html.find("li", attrs={"data-domain": domain})


def add_domain(testapp, company, domain, status=303):
    form = testapp.get(tab_path(company)).forms["domain-form"]
    form["domain"] = domain
    return form.submit(status=status)


def verify(testapp, company, row, status=303):
    return act(testapp, company, "domain-verify", status=status, domain_id=str(row.id))


def test_a_domain_is_verified_only_once_its_txt_record_is_in_dns(dns_admin, dns_server,
                                                                   dbsession):
    testapp, company = dns_admin
    page = add_domain(testapp, company, " Example.SE. ").follow()
    [row] = domain_rows(dbsession)
    assert row.domain == "example.se" and row.verified_at is None
    item = listed(page, "example.se")
    shown = [code.text for code in item.find_all("code")]
    assert shown == [RECORD, f"mypages-verification={row.token}"]
    assert "Not verified yet" in item.text

    # no record yet, then a record with another value: refused both times, clearly
    for records in ([], ["mypages-verification=someone-elses-token"]):
        for value in records:
            dns_server.add_txt(RECORD, value)
        page = verify(testapp, company, row).follow()
        assert any("TXT record was not found" in m for m in messages(page))
        assert "Not verified yet" in listed(page, "example.se").text
        assert domain_rows(dbsession)[0].verified_at is None
    assert (RECORD, "TXT") in dns_server.queries  # it really asked the name server

    dns_server.add_txt(RECORD, f"mypages-verification={row.token}")
    page = verify(testapp, company, row).follow()
    assert "example.se is verified." in messages(page)
    item = listed(page, "example.se")
    assert "Verified" in item.text and not item.find("form", action=f"{tab_path(company)}/domain-verify")
    assert domain_rows(dbsession)[0].verified_at is not None
    assert audit_actions(dbsession, company, "sso.domain") == [
        "sso.domain_claimed", "sso.domain_not_verified", "sso.domain_not_verified",
        "sso.domain_verified"]


def test_the_record_is_also_found_among_other_txt_records_and_over_tcp(dns_admin, dns_server,
                                                                       dbsession):
    testapp, company = dns_admin
    add_domain(testapp, company, "example.se")
    [row] = domain_rows(dbsession)
    dns_server.add_txt(RECORD, "v=spf1 -all")
    for letter in "xyz":  # more than a plain UDP answer holds: truncated, asked again over TCP
        dns_server.add_txt(RECORD, letter * 300)
    dns_server.add_txt(RECORD, f"mypages-verification={row.token}")
    verify(testapp, company, row)
    assert domain_rows(dbsession)[0].verified_at is not None
    assert dns_server.transports == ["udp", "tcp"]


@pytest.mark.parametrize("outage", ["server down", "server failing"])
def test_a_dns_failure_says_so_and_changes_nothing(dns_admin, dns_server, dbsession, outage):
    testapp, company = dns_admin
    add_domain(testapp, company, "example.se")
    [row] = domain_rows(dbsession)
    dns_server.add_txt(RECORD, f"mypages-verification={row.token}")
    if outage == "server down":
        dns_server.stop()
    else:
        dns_server.failing = True
    page = verify(testapp, company, row, status=400)
    assert "The DNS lookup failed. Try again in a while." in messages(page)
    assert domain_rows(dbsession)[0].verified_at is None
    [failed] = audit_events(dbsession, "sso.domain_lookup_failed")
    assert (failed.company_id, failed.target) == (company.id, "example.se")
    assert "sso.domain_verified" not in audit_actions(dbsession)


def test_a_domain_belongs_to_one_company(dns_admin, dns_app, dns_server, factory, dbsession):
    testapp, company = dns_admin
    add_domain(testapp, company, "example.se")
    [row] = domain_rows(dbsession)
    other = factory.company("Other AB")
    other_admin = factory.user("admin@other.se", company=other, role="admin")
    rival = browser(dns_app)
    sign_in_with_password(rival, other_admin.email, factory.password)
    activate_sso(rival, other)

    # neither while the first claim waits for its record, nor once it is verified
    for _ in range(2):
        page = add_domain(rival, other, "EXAMPLE.se", status=400)
        assert "example.se is claimed by another company." in messages(page)
        assert domain_rows(dbsession, other) == []
        dns_server.add_txt(RECORD, f"mypages-verification={row.token}")
        verify(testapp, company, row)
    assert domain_rows(dbsession)[0].company_id == company.id
    # nor by verifying the first company's row from the other company
    page = verify(rival, other, row, status=400)
    assert "There is no such domain." in messages(page)
    act(rival, other, "domain-remove", status=400, domain_id=str(row.id))
    assert [r.company_id for r in domain_rows(dbsession)] == [company.id]
    # and the same company cannot add it twice
    page = add_domain(testapp, company, "example.se", status=400)
    assert "example.se is already added." in messages(page)


def test_an_unproven_claim_does_not_hold_a_domain_for_ever(dns_admin, dns_app, factory,
                                                            dbsession):
    testapp, squatter = dns_admin
    add_domain(testapp, squatter, "example.se")
    [row] = domain_rows(dbsession)
    row.created_at = utcnow() - dt.timedelta(days=8)
    dbsession.commit()
    owner = factory.company("Owner AB")
    owner_admin = factory.user("admin@owner.se", company=owner, role="admin")
    rightful = browser(dns_app)
    sign_in_with_password(rightful, owner_admin.email, factory.password)
    activate_sso(rightful, owner)
    add_domain(rightful, owner, "example.se")
    [row] = domain_rows(dbsession)
    assert row.company_id == owner.id and row.verified_at is None
    [released] = audit_events(dbsession, "sso.domain_claim_released")
    assert (released.company_id, released.target) == (squatter.id, "example.se")


CONSUMER = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "live.se",
            "hotmail.se", "googlemail.com", "@Gmail.com", "GMAIL.COM."]


def test_consumer_mail_domains_cannot_be_claimed(dns_admin, dbsession):
    testapp, company = dns_admin
    for domain in CONSUMER:
        page = add_domain(testapp, company, domain, status=400)
        normal = domain.strip("@.").lower()
        assert f"{normal} is a public mail service and cannot belong to a company." in messages(page)
    assert domain_rows(dbsession) == []
    assert audit_actions(dbsession, company, "sso.domain") == []


MALFORMED = ["", "   ", "example", "not a domain", "-example.se", "example-.se", "exa..mple.se",
             "exa_mple.se", "https://example.se", "user@example.se", "example.se/path",
             "<script>.se", "a" * 64 + ".se", ("a" * 60 + ".") * 5 + "se", "example.123"]


def test_malformed_domains_are_refused(dns_admin, dbsession):
    testapp, company = dns_admin
    for domain in MALFORMED:
        # the form's "required" is the browser's business; the server checks anyway
        page = act(testapp, company, "domain-add", status=400, domain=domain)
        assert "That is not a domain name." in messages(page), domain
    assert domain_rows(dbsession) == []


def test_international_domains_are_kept_in_their_dns_form(dns_admin, dns_server, dbsession):
    testapp, company = dns_admin
    add_domain(testapp, company, "Exämple.se")
    [row] = domain_rows(dbsession)
    assert row.domain == "xn--exmple-cua.se"
    dns_server.add_txt(f"_mypages-verification.{row.domain}", f"mypages-verification={row.token}")
    verify(testapp, company, row)
    assert domain_rows(dbsession)[0].verified_at is not None


def test_removing_a_domain_is_audited(dns_admin, dbsession):
    testapp, company = dns_admin
    add_domain(testapp, company, "example.se")
    [row] = domain_rows(dbsession)
    page = act(testapp, company, "domain-remove", domain_id=str(row.id)).follow()
    assert "The domain has been removed." in messages(page)
    assert domain_rows(dbsession) == []
    assert audit_actions(dbsession, company, "sso.domain") == ["sso.domain_claimed",
                                                              "sso.domain_removed"]


def test_only_admins_of_a_company_with_the_module_see_the_tab(dns_app, factory, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    member = factory.user(company=company)
    testapp = browser(dns_app)
    sign_in_with_password(testapp, admin.email, factory.password)
    testapp.get(tab_path(company), status=404)  # no module, no tab
    act(testapp, company, "domain-add", status=404, domain="example.se")
    activate_sso(testapp, company)
    testapp.get(tab_path(company), status=200)
    people = browser(dns_app)
    sign_in_with_password(people, member.email, factory.password)
    people.get(tab_path(company), status=403)
    act(people, company, "domain-add", status=403, domain="example.se")
    assert domain_rows(dbsession) == []
