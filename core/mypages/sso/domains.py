"""Verified mail domains: a company proves a domain with a DNS TXT record.

A domain belongs to one company at most, and consumer mail domains cannot
be claimed. A verified domain routes sign-in (identifier-first) and lets
Single Sign On link or create accounts.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

import dns.exception
import dns.resolver
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mypages.accounts.models import User
from mypages.companies.models import Company, Membership
from mypages.i18n import _
from mypages.outbound.resolver import resolver_from_settings
from mypages.refusals import Refusal
from mypages.services import DnsLookupFailed, DnsResolver, dns_resolver
from mypages.settings import Settings
from mypages.sso.models import SsoConnection, VerifiedDomain
from mypages.work import Work

TXT_PREFIX = "mypages-verification="
RECORD_NAME = "_mypages-verification"
DOMAIN_PATTERN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                            r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
#: an unverified claim holds a domain this long; then another company may claim it
CLAIM_HOLD = dt.timedelta(days=7)

#: mail domains anyone can get an address at; never proof of belonging to a company
CONSUMER_DOMAINS = frozenset("""
gmail.com googlemail.com outlook.com hotmail.com hotmail.se live.com live.se msn.com
yahoo.com yahoo.se ymail.com icloud.com me.com mac.com aol.com gmx.com gmx.net gmx.de
mail.com protonmail.com proton.me pm.me zoho.com yandex.com yandex.ru mail.ru web.de
telia.com telia.se spray.se bredband.net comhem.se tele2.se passagen.se home.se
outlook.se outlook.dk hotmail.dk hotmail.no hotmail.fi hotmail.co.uk live.dk live.no live.fi
live.co.uk yahoo.dk yahoo.no yahoo.co.uk protonmail.ch gmx.se msn.se
""".split())


class DomainError(Refusal):
    """A domain that cannot be claimed or verified."""


def normalize(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if domain.startswith("@"):
        domain = domain[1:]
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise DomainError(_("That is not a domain name."))
    if not DOMAIN_PATTERN.match(domain):
        raise DomainError(_("That is not a domain name."))
    return domain


def claim(work: Work, company, raw: str) -> VerifiedDomain:
    domain = normalize(raw)
    if domain in CONSUMER_DOMAINS:
        raise DomainError(_("${domain} is a public mail service and cannot belong to a company.",
                            mapping={"domain": domain}))
    dbsession = work.dbsession
    taken = dbsession.scalars(select(VerifiedDomain).where(
        VerifiedDomain.domain == domain)).one_or_none()
    if taken is not None:
        if taken.company_id == company.id:
            raise DomainError(_("${domain} is already added.", mapping={"domain": domain}))
        if taken.verified_at is not None or taken.created_at > work.now() - CLAIM_HOLD:
            raise DomainError(_("${domain} is claimed by another company.",
                                mapping={"domain": domain}))
        # an unproven claim must not hold a domain away from its owner for ever
        dbsession.delete(taken)
        dbsession.flush()
        work.audit("sso.domain_claim_released", company=dbsession.get(Company, taken.company_id),
                   target=domain)
    claimed = VerifiedDomain(company_id=company.id, domain=domain,
                             token=secrets.token_urlsafe(24), created_at=work.now())
    dbsession.add(claimed)
    try:
        dbsession.flush()
    except IntegrityError:  # another company claimed it at the same moment
        raise DomainError(_("${domain} is claimed by another company.", mapping={"domain": domain}))
    work.audit("sso.domain_claimed", company=company, target=domain)
    return claimed


def expected_record(claimed: VerifiedDomain) -> tuple[str, str]:
    """(name, value) of the TXT record that proves the claim."""
    return f"{RECORD_NAME}.{claimed.domain}", f"{TXT_PREFIX}{claimed.token}"


class DnspythonResolver(DnsResolver):
    """The system's resolver, or the name servers of ``mypages.dns.nameservers``."""

    def __init__(self, settings: Settings):
        self.resolver = resolver_from_settings(settings)

    def txt(self, name: str) -> list[str]:
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as error:
            raise DnsLookupFailed(str(error)) from error
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def verify(work: Work, company, claimed: VerifiedDomain) -> bool:
    name, value = expected_record(claimed)
    try:
        found = dns_resolver(work.registry).txt(name)
    except DnsLookupFailed:
        raise DomainError(_("The DNS lookup failed. Try again in a while."))
    if value not in found:
        work.audit("sso.domain_not_verified", company=company, target=claimed.domain)
        return False
    claimed.verified_at = work.now()
    work.audit("sso.domain_verified", company=company, target=claimed.domain)
    return True


def connection_for_email(dbsession, email: str) -> SsoConnection | None:
    """The Single Sign On connection of the company that verified the e-mail's domain."""
    if "@" not in email:
        return None
    try:
        domain = normalize(email.rsplit("@", 1)[1])
    except DomainError:
        return None
    return dbsession.scalars(
        select(SsoConnection).join(VerifiedDomain,
                                   VerifiedDomain.company_id == SsoConnection.company_id)
        .where(VerifiedDomain.domain == domain, VerifiedDomain.verified_at.is_not(None))
    ).one_or_none()


def connection_requiring(dbsession, email: str) -> SsoConnection | None:
    """For a member whose address is at no verified domain: the connection of their
    company that requires Single Sign On, if exactly one does."""
    found = dbsession.scalars(
        select(SsoConnection).join(Membership, Membership.company_id == SsoConnection.company_id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email.strip().lower(), SsoConnection.require_all.is_(True))
    ).all()
    return found[0] if len(found) == 1 else None
