"""What every Single Sign On sign-in shares, whatever the protocol.

``start`` records a single-use attempt bound to this browser and sends the
browser to the identity provider; the protocol module checks the answer and
makes a :class:`~mypages.contract.FederatedIdentity`; ``complete`` finds or
(when the company allows it) creates the account, keeps group memberships in
step and signs the person in. Every refusal is audited and creates no session.

The protocol modules never see the request: :func:`exchange` is the one place
that reads from it what they need.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select, update

from mypages.accounts import note_proof, throttle
from mypages.accounts.models import User
from mypages.accounts.signing_in import sign_in, step_up
from mypages.accounts.throttle import SSO_START
from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo, SsoRejected, UserInfo
from mypages.db import committed_on_its_own
from mypages.i18n import _
from mypages.modules.lifecycle import entitled_keys
from mypages.policy.engine import proven_for
from mypages.services import clock, settings_of
from mypages.sso import domains, oidc, saml
from mypages.sso.connections import MODULE_KEY, provider_of, values_of
from mypages.sso.exchange import Exchange
from mypages.sso.groups import sync_groups
from mypages.sso.models import SsoAttempt, SsoConnection, SsoLink, VerifiedDomain
from mypages.web.safety import safe_next
from mypages.work import Actor, Work, work_of

ATTEMPT_LIFETIME = dt.timedelta(minutes=10)
BROWSER_KEY = "sso_browser"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def our_address(request, route_name: str, **parts) -> str:
    """One of our addresses as identity providers reach it (under ``base_url``)."""
    return settings_of(request).base_url + request.route_path(route_name, **parts)


def exchange(request, connection: SsoConnection | None = None) -> Exchange:
    """What the protocol code needs of this request, for ``connection`` (our SAML addresses
    are the connection's own)."""
    saml_urls = {}
    if connection is not None and connection.id is not None:
        saml_urls = {"entity_id": our_address(request, "sso_saml_metadata",
                                              connection_id=connection.id),
                     "acs_url": our_address(request, "sso_saml_acs", connection_id=connection.id)}
    return Exchange(dbsession=request.dbsession, outbound=request.outbound, clock=clock(request),
                    redirect_uri=our_address(request, "sso_oidc_callback"),
                    metadata_cache=saml.metadata_cache(request.registry), **saml_urls)


# attempts are bound to the browser's session cookie: start/take/burn take the request
def browser_binding(request) -> str:
    """A random value in this browser's signed session cookie; attempts are bound to it."""
    value = request.session.get(BROWSER_KEY)
    if not value:
        value = request.session[BROWSER_KEY] = secrets.token_urlsafe(24)
    return digest(value)


def usable(dbsession, connection: SsoConnection, now) -> bool:
    """SSO works while the module is entitled, and also while "Require from all" is on,
    so that a lapsing trial never locks anyone out."""
    return connection.require_all or MODULE_KEY in entitled_keys(
        dbsession, connection.company_id, now)


def identifier_first(request, email: str, next_url: str):
    """accounts' identifier-first route (core/mypages/accounts/rules.py): an address at a
    domain verified by a company with Single Sign On goes straight to its identity provider."""
    connection = domains.connection_for_email(request.dbsession, email)
    if connection is None or not usable(request.dbsession, connection, clock(request).now()):
        return None
    return start(request, connection, login_hint=email, next_url=next_url)


def start(request, connection: SsoConnection, *, login_hint: str | None = None,
          next_url: str = "", test: bool = False):
    """Send the browser to the connection's identity provider. Each start counts against
    the address and the connection (an admin's test, behind permissions, does not)."""
    provider = provider_of(request.registry, connection)
    if provider is None or not usable(request.dbsession, connection, clock(request).now()):
        raise SsoRejected("connection-unavailable", _("Single Sign On is not available for "
                                                      "this company right now."))
    if not test:
        wait = throttle.wait_seconds(work_of(request), SSO_START, connection.id)
        if wait:
            return throttle.refusal(request, wait, "sso.start_throttled",
                                    company=_company(request, connection), target=provider.key)
        throttle.record(work_of(request), SSO_START, connection.id)
    state = secrets.token_urlsafe(32)
    attempt = SsoAttempt(state_hash=digest(state), connection_id=connection.id,
                         browser_hash=browser_binding(request), nonce=secrets.token_urlsafe(24),
                         code_verifier=secrets.token_urlsafe(64) if connection.protocol == "oidc" else "",
                         next_url=safe_next(next_url, ""), is_test=test)
    values = values_of(request.registry, connection)
    protocol = oidc if connection.protocol == "oidc" else saml
    location = protocol.request_location(exchange(request, connection), connection, provider,
                                         values, attempt, state, login_hint)
    request.dbsession.add(attempt)
    request.audit("sso.started", company=_company(request, connection), target=provider.key,
                  protocol=connection.protocol, test=test)
    return HTTPSeeOther(location)


def take_attempt(request, state: str | None) -> SsoAttempt:
    """The attempt ``state`` names, used up now: unknown, reused, expired, or begun in
    another browser, it is refused."""
    if not state:
        raise SsoRejected("state-missing")
    now = clock(request).now()
    # used up in a short transaction of its own, committed before the provider is called:
    # no transaction stays open (nor, on SQLite, the write lock held) during those calls
    with committed_on_its_own(request.registry) as own:
        taken = own.execute(
            update(SsoAttempt)
            .where(SsoAttempt.state_hash == digest(state), SsoAttempt.used_at.is_(None),
                   SsoAttempt.browser_hash == browser_binding(request),
                   SsoAttempt.created_at > now - ATTEMPT_LIFETIME)
            .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise SsoRejected("state-invalid")
    return request.dbsession.get(SsoAttempt, digest(state))


def burn_attempt(request, state: str | None) -> Company | None:
    """Use up the attempt ``state`` names in a transaction of its own, for refused sign-ins
    whose request transaction is rolled back: a state never works twice. Returns the
    attempt's company, if the state named one."""
    if not state:
        return None
    with committed_on_its_own(request.registry) as own:
        own.execute(update(SsoAttempt).where(SsoAttempt.state_hash == digest(state),
                                             SsoAttempt.used_at.is_(None))
                    .values(used_at=clock(request).now()))
        company = own.scalars(
            select(Company).join(SsoConnection, SsoConnection.company_id == Company.id)
            .join(SsoAttempt, SsoAttempt.connection_id == SsoConnection.id)
            .where(SsoAttempt.state_hash == digest(state))).one_or_none()
        if company is not None:
            own.expunge(company)
    return company


def _company(request, connection: SsoConnection) -> Company:
    return request.dbsession.get(Company, connection.company_id)


def domain_verified(dbsession, company_id: int, email: str | None) -> bool:
    if not email or "@" not in email:
        return False
    domain = email.rsplit("@", 1)[1].lower()
    return dbsession.scalar(select(VerifiedDomain.id).where(
        VerifiedDomain.company_id == company_id, VerifiedDomain.domain == domain,
        VerifiedDomain.verified_at.is_not(None))) is not None


def _account(work: Work, connection: SsoConnection, company: Company, identity) -> User:
    """The account this identity signs in to: linked before, linked now, or created now."""
    dbsession = work.dbsession
    link = dbsession.scalars(select(SsoLink).where(
        SsoLink.connection_id == connection.id, SsoLink.subject == identity.subject)).one_or_none()
    if link is not None:
        user = dbsession.get(User, link.user_id)
        link.last_sign_in_at = work.now()
        return user
    email = (identity.email or "").strip().lower()
    vouched = identity.email_verified and domain_verified(dbsession, company.id, email)
    existing = dbsession.scalars(select(User).where(User.email == email)).one_or_none() if email else None
    if existing is not None:
        if not vouched:
            # never take over an account on an e-mail the provider does not vouch for
            raise SsoRejected("link-unverified", _("Your account could not be linked: the "
                                                   "e-mail address is not verified for this company."))
        if dbsession.scalar(select(SsoLink.id).where(SsoLink.connection_id == connection.id,
                                                      SsoLink.user_id == existing.id)):
            # the account belongs to another person at this identity provider already
            raise SsoRejected("already-linked", _("Your account could not be linked: it is "
                                                  "linked to another identity already."))
        user = existing
        _by(work, user).audit("sso.account_linked", company=company, target=email)
    elif vouched and connection.jit_enabled:
        user = User(email=email, display_name=identity.name[:200], password_hash=None)
        dbsession.add(user)
        dbsession.flush()
        _by(work, user).audit("sso.user_provisioned", company=company, target=email)
    else:
        raise SsoRejected("no-account", _("There is no account for you at this company. "
                                          "Ask an admin of your company to invite you."))
    dbsession.add(SsoLink(connection_id=connection.id, subject=identity.subject, user_id=user.id,
                          last_sign_in_at=work.now()))
    return user


def _by(work: Work, user: User) -> Work:
    """The work as ``user``'s own: what the sign-in does is on record as theirs."""
    return Work(work.dbsession, work.registry, Actor(UserInfo.of(user), work.actor.ip))


def _membership(work: Work, connection, company, user, identity) -> Membership:
    dbsession = work.dbsession
    membership = dbsession.scalars(select(Membership).where(
        Membership.company_id == company.id, Membership.user_id == user.id)).one_or_none()
    if membership is not None:
        return membership
    if connection.jit_enabled and identity.email_verified and domain_verified(
            dbsession, company.id, identity.email):
        membership = Membership(company_id=company.id, user_id=user.id, role=Role.member)
        dbsession.add(membership)
        dbsession.flush()
        _by(work, user).audit("sso.member_provisioned", company=company, target=user.email)
        return membership
    raise SsoRejected("not-a-member", _("You are not a member of this company. "
                                        "Ask an admin of your company to invite you."))


def admit(work: Work, connection: SsoConnection, identity) -> tuple[User, Company, Membership]:
    """Who ``identity`` is at the connection's company: the account (linked before, linked
    now or created now), the membership (or created now) and the groups kept in step.
    Raises :class:`SsoRejected` for anyone who may not come in."""
    company = work.dbsession.get(Company, connection.company_id)
    user = _account(work, connection, company, identity)
    if not user.is_active:
        raise SsoRejected("account-disabled", _("This account is disabled."))
    membership = _membership(work, connection, company, user, identity)
    sync_groups(_by(work, user), connection, company, user, identity)
    return user, company, membership


def complete(request, attempt: SsoAttempt, connection: SsoConnection, identity):
    """Sign the person in; ``identity`` has passed every protocol and provider check."""
    user, company, membership = admit(work_of(request), connection, identity)
    provider = provider_of(request.registry, connection)
    method = f"sso:{provider.key}"
    where = CompanyInfo.of(company)
    next_url = attempt.next_url or request.route_path("dashboard", company_id=company.id)
    if request.user is not None and request.user.id == user.id:
        response = step_up(request, [method], next_url, company=where)
    else:
        response = sign_in(request, user.id, [method], next_url, company=where)
    # the session also records whose connection it was: another company's identity
    # provider, or any other sign-in method, never satisfies this company's "Require from all"
    note_proof(request, proven_for(company.id))
    if attempt.is_test and membership.role == Role.admin:
        connection.admin_tested_at = clock(request).now()
        request.audit("sso.tested", company=company, actor=user, target=provider.key)
        request.session.flash(request.translate(_(
            "The connection works: you signed in through Single Sign On.")))
        return HTTPSeeOther(request.route_url("sso_settings", company_id=company.id))
    return response
