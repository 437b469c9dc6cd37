"""What ``mypages demo`` seeds with: every plugin's ``mypages_demo`` in one transaction.

The core has no demo data of its own: the demo company and people come from a
plugin (mypages-devtools), so a production installation, which leaves that
plugin out, holds no known passwords. :class:`DemoContext` gives an
implementation find-or-create helpers, so seeding twice changes nothing.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mypages.accounts.models import User
from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo, UserInfo
from mypages.services import password_hasher, settings_of
from mypages.sso.models import VerifiedDomain
from mypages.work import Work


@dataclass(frozen=True)
class DemoContext:
    """What a ``mypages_demo`` implementation seeds with: the transaction of the whole
    run (``dbsession``, for a plugin's own tables), the application's ``registry``, and
    find-or-create helpers for the core's records. Everything is committed together when
    every plugin has seeded, or nothing is."""

    work: Work

    @property
    def dbsession(self) -> Session:
        return self.work.dbsession

    @property
    def registry(self):
        return self.work.registry

    @property
    def base_url(self) -> str:
        """Where the application is served (``mypages.base_url``), for the lines to print."""
        return settings_of(self.registry).base_url

    def now(self) -> dt.datetime:
        return self.work.now()

    def audit(self, action: str, company: CompanyInfo | None = None, target: str = "",
              **details) -> None:
        """Record ``action`` in the audit trail, as the platform (``demo=True`` is added)."""
        self.work.audit(action, company=company, target=target, demo=True, **details)

    def company(self, name: str, *, org_number: str | None = None,
                locale: str = "sv") -> CompanyInfo:
        """The company called ``name``, made if there is none."""
        company = self.dbsession.scalars(select(Company).where(Company.name == name)).first()
        if company is None:
            company = Company(name=name, org_number=org_number, default_locale=locale)
            self.dbsession.add(company)
            self.dbsession.flush()
            self.audit("company.created", company=CompanyInfo.of(company), target=name)
        return CompanyInfo.of(company)

    def person(self, email: str, name: str, password: str, *,
               company: CompanyInfo | None = None, admin: bool = False,
               operator: bool = False) -> UserInfo:
        """The account of ``email`` (made with ``password`` if there is none), a member of
        ``company`` (an admin with ``admin``) unless it is one already; ``operator`` makes
        a new account a platform operator."""
        email = email.strip().lower()
        user = self.dbsession.scalars(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, display_name=name, is_operator=operator,
                        password_hash=password_hasher(self.registry).hash(password))
            self.dbsession.add(user)
            self.dbsession.flush()
        if company is not None:
            member = self.dbsession.scalars(select(Membership).where(
                Membership.company_id == company.id, Membership.user_id == user.id)).first()
            if member is None:
                self.dbsession.add(Membership(company_id=company.id, user_id=user.id,
                                              role=Role.admin if admin else Role.member))
                self.dbsession.flush()
        return UserInfo.of(user)

    def verified_domain(self, company: CompanyInfo, domain: str) -> bool:
        """``domain`` verified for ``company`` at once (offline there is no DNS to put the
        TXT record in); False when another company has it already."""
        domain = domain.strip().lower()
        row = self.dbsession.scalars(
            select(VerifiedDomain).where(VerifiedDomain.domain == domain)).first()
        if row is None:
            self.dbsession.add(VerifiedDomain(company_id=company.id, domain=domain,
                                              token=secrets.token_urlsafe(24),
                                              verified_at=self.now()))
            self.dbsession.flush()
            self.audit("sso.domain_verified", company=company, target=domain)
            return True
        return row.company_id == company.id


def seed(pm, work: Work) -> list[tuple[str, list[str]]]:
    """Every plugin's demo data, in hook order: (plugin name, lines it printed)."""
    given = {"context": DemoContext(work)}
    seeded = []
    for impl in reversed(pm.hook.mypages_demo.get_hookimpls()):
        lines = impl.function(**{arg: given[arg] for arg in impl.argnames}) or []
        seeded.append((impl.plugin_name, [str(line) for line in lines]))
    return seeded
