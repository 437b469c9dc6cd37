"""The Single Sign On tab for company admins, and the sign-in routes."""
from __future__ import annotations

from pyramid.events import subscriber
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import delete, select

from mypages.companies.models import Group
from mypages.contract import SsoRejected
from mypages.i18n import _, stored_message
from mypages.refusals import Refusal, RefusalShown
from mypages.services import clock
from mypages.sso import domains, flow, oidc, saml
from mypages.sso.connections import (MODULE_KEY, check_addresses, connection_of, provider_of,
                                     store_secrets, values_of)
from mypages.sso.models import SsoConnection, SsoGroupMapping, SsoLink, VerifiedDomain
from mypages.sso.require_all import (BREAK_GLASS_NEEDED, break_glass_ready, has_verified_domain,
                                     switch)
from mypages.web.inputs import as_id
from mypages.web.safety import safe_next
from mypages.work import work_of


def settings_page(request, errors=(), form=None):
    connection = connection_of(request.dbsession, request.company.id)
    providers = request.registry["sso.providers"]
    claimed = request.dbsession.scalars(select(VerifiedDomain).where(
        VerifiedDomain.company_id == request.company.id).order_by(VerifiedDomain.domain)).all()
    mappings = []
    if connection is not None:
        mappings = request.dbsession.execute(
            select(SsoGroupMapping, Group).join(Group, Group.id == SsoGroupMapping.group_id)
            .where(SsoGroupMapping.connection_id == connection.id)
            .order_by(SsoGroupMapping.idp_group)).all()
    chosen = (form or {}).get("provider") or (connection.provider if connection else None)
    protocol = (form or {}).get("protocol") or (connection.protocol if connection else "oidc")
    provider = providers.get(chosen) if chosen else None
    values = dict(connection.settings) if connection and connection.provider == chosen else {}
    values.update({k: v for k, v in (form or {}).items() if k not in ("provider", "protocol")})
    tested = bool(connection and connection.admin_tested_at
                  and connection.admin_tested_at >= connection.changed_at)
    skipped = connection.groups_skipped if connection is not None else None
    return {
        "groups_skipped": (request.translate(stored_message(skipped["message"])),
                           skipped.get("email")) if skipped else None,
        "connection": connection, "providers": providers, "provider": provider,
        "protocol": protocol, "values": values, "errors": list(errors),
        "fields": [f for f in provider.settings() if protocol in f.protocols] if provider else [],
        "secret_set": bool(connection and connection.secrets_encrypted),
        "tested": tested, "domains": [(d, domains.expected_record(d)) for d in claimed],
        "has_verified_domain": any(d.verified_at is not None for d in claimed),
        "break_glass_ready": break_glass_ready(request.dbsession, request.registry,
                                               request.company.id, clock(request).now()),
        "break_glass_needed": BREAK_GLASS_NEEDED, "require_all_text": REQUIRE_ALL_TEXT,
        "mappings": mappings, "messages": request.session.pop_flash(),
        "redirect_uri": flow.our_address(request, "sso_oidc_callback"),
        "acs_url": (flow.our_address(request, "sso_saml_acs", connection_id=connection.id)
                    if connection else None),
        "metadata_url": (flow.our_address(request, "sso_saml_metadata", connection_id=connection.id)
                         if connection else None),
    }


@view_config(route_name="sso_settings", module=MODULE_KEY, permission="company.admin",
             request_method="GET", renderer="mypages:templates/sso.jinja2")
def settings(request):
    return settings_page(request, form={"provider": request.params.get("provider", ""),
                                        "protocol": request.params.get("protocol", "")})


def _back(request, done=None):
    """Back to the tab, saying what was done."""
    if done is not None:
        request.session.flash(request.translate(done))
    return HTTPSeeOther(request.route_url("sso_settings", company_id=request.company.id))


def _refused_page(request, errors):
    return settings_page(request, errors)


def _refused_form_page(request, errors):
    """The connection form again, as it was filled in (secrets are never shown again)."""
    return settings_page(request, errors, {k: v for k, v in request.POST.items()
                                           if k != "csrf_token"})


#: the options of every view of the tab's forms: refusals are shown on the tab
TAB_FORM = dict(route_name="sso_action", module=MODULE_KEY, permission="company.admin",
                renderer="mypages:templates/sso.jinja2", refusal_page=_refused_page)


@view_config(form_action="save", **dict(TAB_FORM, refusal_page=_refused_form_page))
def save_connection(request):
    post = request.POST
    provider = request.registry["sso.providers"].get(post.get("provider", ""))
    if provider is None:
        raise Refusal(_("Choose an identity provider."))
    protocol = post.get("protocol", "oidc")
    if protocol not in provider.protocols:
        raise Refusal(_("This identity provider does not support that protocol."))
    connection = connection_of(request.dbsession, request.company.id)
    old_secrets = values_of(request.registry, connection) if connection else {}
    fields = [f for f in provider.settings() if protocol in f.protocols]
    plain, secrets_, errors = {}, {}, []
    for field in fields:
        value = post.get(field.name, "").strip()
        if field.secret:
            # an empty secret field keeps the stored secret (it is never shown again)
            value = value or (old_secrets.get(field.name, "") if connection
                              and connection.provider == provider.key else "")
            if value:
                secrets_[field.name] = value
        elif value:
            plain[field.name] = value
        if field.required and not value:
            errors.append(_("${field} is required.", mapping={"field": request.translate(field.label)}))
    errors += provider.check_settings({**plain, **secrets_})
    if not errors:
        errors += check_addresses(request.outbound, provider, protocol, {**plain, **secrets_})
    if errors:
        raise Refusal(errors)
    links_removed = 0
    if connection is None:
        connection = SsoConnection(company_id=request.company.id)
        request.dbsession.add(connection)
    elif ((connection.provider, connection.protocol, connection.settings)
          != (provider.key, protocol, plain)):
        # another provider, tenant, issuer or metadata: its subjects may be other people, so
        # each person is linked again at their first sign-in there (when it vouches for the
        # e-mail); a new secret alone keeps the links
        links_removed = request.dbsession.execute(
            delete(SsoLink).where(SsoLink.connection_id == connection.id)).rowcount
    connection.provider, connection.protocol = provider.key, protocol
    connection.settings = plain
    store_secrets(request.registry, connection, secrets_)
    connection.changed_at = clock(request).now()
    request.dbsession.flush()
    # secrets never reach the audit trail: only which fields were set
    request.audit("sso.connection_saved", target=provider.key, protocol=protocol,
                  settings=sorted(plain), secrets_set=sorted(secrets_), links_removed=links_removed)
    return _back(request, _("The connection is saved. Test it before you require it from all."))


def _connection(request) -> SsoConnection:
    connection = connection_of(request.dbsession, request.company.id)
    if connection is None:
        raise Refusal(_("Set up the connection to your identity provider first."))
    return connection


@view_config(form_action="test", **TAB_FORM)
def test_connection(request):
    connection = _connection(request)
    try:
        return flow.start(request, connection, login_hint=request.user.email, test=True)
    except SsoRejected as rejected:
        # refused before the browser left (the provider's address, say): told on the tab
        raise Refusal(rejected.message or _(
            "The test could not start: the identity provider's answer was refused.")
        ).audited("sso.rejected", reason=rejected.reason, test=True)


REQUIRE_ALL_TEXT = _("From now on your people can only sign in through your identity provider: "
                     "password sign-in, password reset and local two-factor are closed for "
                     "everyone except the break-glass admins. People who are signed in now "
                     "stay signed in until their session ends.")


@view_config(route_name="sso_require_all_confirm", module=MODULE_KEY, permission="company.admin",
             request_method="GET", renderer="mypages:templates/confirm.jinja2")
def require_all_confirmation(request):
    """Without JavaScript, "Require Single Sign On from all" leads here to confirm."""
    return {"title": _("Require Single Sign On from all?"), "text": REQUIRE_ALL_TEXT,
            "fields": {"on": "1"}, "confirm_label": _("Require Single Sign On from all"),
            "action": request.path_for("sso_action", company_id=request.company.id,
                                       action="require-all"),
            "back": request.path_for("sso_settings", company_id=request.company.id)}


@view_config(form_action="require-all", **TAB_FORM)
def require_all(request):
    on = request.POST.get("on") == "1"
    switch(work_of(request), request.company, on)
    if on:
        return _back(request, _("Single Sign On is now required from all. Password sign-in is "
                                "closed for your people, except the break-glass admins."))
    return _back(request, _("Single Sign On is no longer required. People can sign in with "
                            "passwords again."))


@view_config(form_action="jit", **TAB_FORM)
def jit(request):
    connection = _connection(request)
    connection.jit_enabled = request.POST.get("on") == "1"
    request.audit("sso.jit_switched", on=connection.jit_enabled)
    return _back(request, _("Saved."))


@view_config(form_action="domain-add", **TAB_FORM)
def add_domain(request):
    claimed = domains.claim(work_of(request), request.company, request.POST.get("domain", ""))
    return _back(request, _("Add the TXT record shown below to ${domain}, then press Verify.",
                            mapping={"domain": claimed.domain}))


def _claimed(request) -> VerifiedDomain:
    raw = request.POST.get("domain_id", "")
    claimed = request.dbsession.scalars(select(VerifiedDomain).where(
        VerifiedDomain.id == (as_id(raw) or -1),
        VerifiedDomain.company_id == request.company.id)).one_or_none()
    if claimed is None:
        raise Refusal(_("There is no such domain."))
    return claimed


@view_config(form_action="domain-verify", **TAB_FORM)
def verify_domain(request):
    claimed = _claimed(request)
    try:
        verified = domains.verify(work_of(request), request.company, claimed)
    except domains.DomainError as error:
        # the refusal rolls the request back; the failed check is still on record
        raise error.audited("sso.domain_lookup_failed", target=claimed.domain)
    if not verified:
        return _back(request, _("The TXT record was not found yet. DNS changes can take a "
                                "while; try again later."))
    return _back(request, _("${domain} is verified.", mapping={"domain": claimed.domain}))


@view_config(form_action="domain-remove", **TAB_FORM)
def remove_domain(request):
    claimed = _claimed(request)
    connection = connection_of(request.dbsession, request.company.id)
    request.dbsession.delete(claimed)
    request.dbsession.flush()
    if connection is not None and connection.require_all and not has_verified_domain(
            request.dbsession, request.company.id):
        # the last way to Single Sign On: removing it would lock everyone out
        raise Refusal(_("Single Sign On is required from all and your people reach it "
                        "through this domain. Stop requiring Single Sign On first."))
    request.audit("sso.domain_removed", target=claimed.domain)
    return _back(request, _("The domain has been removed."))


@view_config(form_action="mapping-add", **TAB_FORM)
def add_mapping(request):
    connection = _connection(request)
    idp_group = request.POST.get("idp_group", "").strip()
    name = request.POST.get("group", "").strip()
    if not idp_group or not name or len(idp_group) > 300 or len(name) > 200:
        raise Refusal(_("Type the identity provider's group id and a group name."))
    group = request.dbsession.scalars(select(Group).where(
        Group.company_id == request.company.id, Group.name == name)).one_or_none()
    if group is None:
        group = Group(company_id=request.company.id, name=name)
        request.dbsession.add(group)
        request.dbsession.flush()
    exists = request.dbsession.scalars(select(SsoGroupMapping).where(
        SsoGroupMapping.connection_id == connection.id, SsoGroupMapping.idp_group == idp_group,
        SsoGroupMapping.group_id == group.id)).one_or_none()
    if exists is None:
        request.dbsession.add(SsoGroupMapping(connection_id=connection.id, idp_group=idp_group,
                                              group_id=group.id))
        request.audit("sso.group_mapping_added", target=idp_group, group=name)
    return _back(request, _("Saved."))


@view_config(form_action="mapping-remove", **TAB_FORM)
def remove_mapping(request):
    connection = connection_of(request.dbsession, request.company.id)
    raw = request.POST.get("mapping_id", "")
    mapping_id = as_id(raw)
    removed = 0
    if connection is not None and mapping_id is not None:
        removed = request.dbsession.execute(delete(SsoGroupMapping).where(
            SsoGroupMapping.id == mapping_id, SsoGroupMapping.connection_id == connection.id)).rowcount
    if not removed:
        raise Refusal(_("There is no such group mapping."))
    request.audit("sso.group_mapping_removed", target=raw)
    return _back(request, _("Saved."))


# -- signing in -------------------------------------------------------------------

@view_config(route_name="sso_start", request_method=("GET", "POST"))
def start(request):
    """Identifier-first: an e-mail whose domain a company with Single Sign On verified
    goes straight to that company's identity provider."""
    email = request.params.get("email", "").strip().lower()
    next_url = safe_next(request.params.get("next"), "")
    connection = domains.connection_for_email(request.dbsession, email) if email else None
    if connection is None and email:
        connection = domains.connection_requiring(request.dbsession, email)
    if connection is None or not flow.usable(request.dbsession, connection, clock(request).now()):
        request.session.flash(request.translate(_(
            "There is no Single Sign On for that address. Sign in with your password.")))
        return HTTPSeeOther(request.route_url("login", _query={"next": next_url} if next_url else {}))
    return flow.start(request, connection, login_hint=email, next_url=next_url)


@view_config(route_name="sso_oidc_callback", request_method="GET")
def oidc_callback(request):
    attempt = flow.take_attempt(request, request.params.get("state"))
    connection = request.dbsession.get(SsoConnection, attempt.connection_id)
    identity = oidc.finish(flow.exchange(request, connection), connection,
                           provider_of(request.registry, connection),
                           values_of(request.registry, connection), attempt, request.GET)
    return flow.complete(request, attempt, connection, identity)


@view_config(route_name="sso_saml_acs", request_method="POST", require_csrf=False)
def saml_acs(request):
    """The identity provider posts here; it is signed by the IdP, not by our CSRF token."""
    attempt = flow.take_attempt(request, request.POST.get("RelayState"))
    connection = request.dbsession.get(SsoConnection, attempt.connection_id)
    if str(connection.id) != request.matchdict["connection_id"]:
        raise SsoRejected("connection-mismatch")
    identity = saml.finish(flow.exchange(request, connection), connection,
                           provider_of(request.registry, connection),
                           values_of(request.registry, connection), attempt, request.POST)
    return flow.complete(request, attempt, connection, identity)


@view_config(route_name="sso_saml_metadata", request_method="GET")
def saml_metadata(request):
    raw = request.matchdict["connection_id"]
    connection_id = as_id(raw)
    connection = request.dbsession.get(SsoConnection, connection_id) if connection_id else None
    if connection is None or connection.protocol != "saml":
        raise HTTPNotFound()
    metadata = saml.sp_metadata(flow.exchange(request, connection),
                                provider_of(request.registry, connection),
                                values_of(request.registry, connection))
    return Response(metadata, content_type="application/samlmetadata+xml")


@subscriber(RefusalShown, refusal=SsoRejected)
def record_rejection(event):
    """A refused sign-in: nothing of it is kept, but its attempt is used up and the refusal
    audited, in transactions of their own (the refusal view shows it)."""
    request = event.request
    company = flow.burn_attempt(request, request.params.get("state")
                                or request.POST.get("RelayState"))
    request.audit_now("sso.rejected", company=company, reason=event.refusal.reason)
