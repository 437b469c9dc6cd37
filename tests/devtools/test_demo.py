"""``mypages demo`` seeds every plugin's demo data through ``mypages_demo``: the demo company,
its people with known passwords and its verified domain come from mypages-devtools; a
second run changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select
from webtest import TestApp

from mypages.accounts.models import User
from mypages.audit.models import AuditEvent
from mypages.companies.models import Company, Membership, Role
from mypages.sso.models import VerifiedDomain
from mypages.testing.cli import OperatorCli
from mypages.testing.web import password_step
from mypages_devtools.demo import DEMO_COMPANY, DEMO_PEOPLE
from mypages_devtools.identity import DEMO_DOMAIN


def counts(dbsession) -> tuple:
    return tuple(dbsession.scalar(select(func.count()).select_from(model))
                 for model in (Company, User, Membership, VerifiedDomain, AuditEvent))


def test_demo_seeds_the_company_its_people_and_domain_once(dev_app, dbsession):
    cli = OperatorCli(app=dev_app)

    first = cli("demo").stdout.splitlines()
    after_first = counts(dbsession)
    second = cli("demo").stdout.splitlines()

    assert first[0] == "devtools:"  # each plugin's lines under its name
    assert "  Sign in at http://localhost/ with:" in first
    assert any(line.strip().startswith("admin") and "demo-admin-password" in line for line in first)
    assert counts(dbsession) == after_first  # idempotent: the second run changed nothing
    assert second == first  # and says the same, for make run's every start
    company = dbsession.scalars(select(Company).where(Company.name == DEMO_COMPANY)).one()
    roles = dict(dbsession.execute(select(User.email, Membership.role).join(
        Membership, Membership.user_id == User.id).where(Membership.company_id == company.id)).all())
    assert roles == {"admin@demo.example": Role.admin, "user@demo.example": Role.member}
    operator = dbsession.scalars(select(User).where(User.email == DEMO_PEOPLE[2][0])).one()
    assert operator.is_operator
    domain = dbsession.scalars(select(VerifiedDomain).where(VerifiedDomain.domain == DEMO_DOMAIN)).one()
    assert domain.company_id == company.id and domain.verified_at is not None


def test_the_demo_people_sign_in_with_their_passwords(dev_app, dev_testapp):
    OperatorCli(app=dev_app)("demo")
    # the member: the admin has BankID linked by the BankID plugin's demo data, a second step
    email, _name, password, _what = DEMO_PEOPLE[1]

    form = password_step(dev_testapp, email)
    form["password"] = password
    answer = form.submit()

    assert answer.status_int in (302, 303) and "/login" not in answer.location


def test_without_development_features_demo_is_refused(app, dbsession):
    result = OperatorCli(app=app)("demo", status=2)

    assert "only for development (mypages.dev_features = true)" in result.stderr
    assert counts(dbsession)[:2] == (0, 0)


def test_the_development_sign_in_page_shows_the_demo_people_who_exist(dev_app, dev_testapp,
                                                                      dbsession):
    OperatorCli(app=dev_app)("demo")
    page = dev_testapp.get("/login", headers={"Accept-Language": "en"})
    rows = [[cell.text for cell in row.find_all("td")]
            for row in page.html.find(id="demo-sign-ins").tbody.find_all("tr")]
    assert rows == [["Admin of Demo AB", "admin@demo.example", "demo-admin-password"],
                    ["Member of Demo AB", "user@demo.example", "demo-user-password"],
                    ["Platform operator", "operator@demo.example", "demo-operator-password"]]
    # a person gone since the demo ran is not offered
    dbsession.scalars(select(User).where(User.email == "user@demo.example")).one().is_active = False
    dbsession.commit()
    page = dev_testapp.get("/login", headers={"Accept-Language": "en"})
    assert "user@demo.example" not in page.html.find(id="demo-sign-ins").text


def test_a_production_like_sign_in_page_shows_no_demo_people(dev_app, app):
    OperatorCli(app=dev_app)("demo")
    page = TestApp(app, extra_environ={"HTTP_HOST": "localhost"}).get("/login")
    assert page.html.find(id="demo-sign-ins") is None
    assert "demo-admin-password" not in page.text
