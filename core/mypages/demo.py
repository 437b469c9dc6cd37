"""Demo data for ``make run``: a company with an admin and a user, and its mail domain
verified for Single Sign On against the offline identity providers under ``/_dev/``."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company, Membership, Role
from mypages.services import password_hasher, settings_of
from mypages.sso.fakes import DEMO_DOMAIN
from mypages.sso.models import VerifiedDomain
from mypages.work import Work

DEMO_COMPANY = "Demo AB"
DEMO_PEOPLE = [
    ("admin@demo.example", "Astrid Admin", "demo-admin-password", Role.admin, False),
    ("user@demo.example", "Ulf User", "demo-user-password", Role.member, False),
    ("operator@demo.example", "Olga Operator", "demo-operator-password", None, True),
]


def seed(work: Work) -> list[str]:
    """Create the demo company and people once; later calls change nothing."""
    dbsession = work.dbsession
    company = dbsession.scalars(select(Company).where(Company.name == DEMO_COMPANY)).first()
    if company is None:
        company = Company(name=DEMO_COMPANY, org_number="556000-0001", default_locale="sv")
        dbsession.add(company)
        dbsession.flush()
        work.audit("company.created", target=company.name, company=company)
    base_url = settings_of(work.registry).base_url
    lines = [f"Sign in at {base_url}/ with:"]
    for email, name, password, role, operator in DEMO_PEOPLE:
        user = dbsession.scalars(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, display_name=name, is_operator=operator,
                        password_hash=password_hasher(work.registry).hash(password))
            dbsession.add(user)
            dbsession.flush()
            if role is not None:
                dbsession.add(Membership(company_id=company.id, user_id=user.id, role=role))
        kind = "operator" if operator else role.value
        lines.append(f"  {kind:9} {email}  password: {password}")
    claimed = select(VerifiedDomain).where(VerifiedDomain.domain == DEMO_DOMAIN)
    if dbsession.scalars(claimed).first() is None:
        # verified at once: offline there is no DNS to put the TXT record in
        dbsession.add(VerifiedDomain(company_id=company.id, domain=DEMO_DOMAIN,
                                     token=secrets.token_urlsafe(24), verified_at=work.now()))
        work.audit("sso.domain_verified", company=company, target=DEMO_DOMAIN, demo=True)
    lines.append(f"Single Sign On: {DEMO_DOMAIN} is verified for {DEMO_COMPANY}; open "
                 f"{base_url}/_dev/ for what to type in the Single Sign On tab.")
    return lines
