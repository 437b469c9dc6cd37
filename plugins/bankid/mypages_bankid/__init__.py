"""BankID: sign in with Swedish BankID (RP API v6.0), and BankID as the second factor that
companies entitled to the "BankID" module require, on the public toolkit only.

A person links BankID from their account page by identifying with it (or a company admin
enters a member's personal number, confirmed at that member's first BankID sign-in), then
signs in with it, on another device with the animated QR code or on this one with the BankID
app. The operator configures the service with ``bankid.*`` settings (:mod:`.client`); in
development ``bankid.environment = fake`` runs a fake service beside the portal, with a phone
page under ``/_dev/bankid/``.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from mypages.toolkit import (HealthCheck, LoginMethod, MigrationSource, Module, Price,
                             SettingsTab, hookimpl)

from mypages_bankid import certificates, identities, signing
from mypages_bankid.client import certificate_expiry
from mypages_bankid.data import (mypages_company_erase, mypages_company_export,  # noqa: F401
                                 mypages_user_export)
from mypages_bankid.dev import DEMO_PERSONAL_NUMBER, mypages_dev_apps  # noqa: F401 (a hook)
from mypages_bankid.i18n import _
from mypages_bankid.identities import has_bankid, with_bankid
from mypages_bankid.models import Identity, metadata
from mypages_bankid.web import service_of

mypages_hookspec = "2.4"

MODULE_KEY = "bankid"
METHOD_KEY = "bankid"


@hookimpl
def mypages_modules():
    return [Module(key=MODULE_KEY, title=_("BankID"),
                   description=_("Sign in with BankID, and BankID as the second factor your "
                                 "company requires."),
                   trial_days=10, price=Price(Decimal("99"), "SEK", per=_("per month")))]


@hookimpl
def mypages_login_methods():
    return [LoginMethod(METHOD_KEY, _("BankID"), is_mfa=True, is_local=False,
                        modules=(MODULE_KEY,), sign_in_route="bankid_sign_in",
                        step_up_route="bankid_step_up", enrol_route="bankid_link",
                        unlink_route="bankid_unlink", is_set_up=has_bankid,
                        set_up_among=with_bankid)]


@hookimpl
def mypages_signers():
    return [signing.signer(MODULE_KEY)]


@hookimpl
def mypages_migrations():
    return MigrationSource("mypages-bankid", "mypages_bankid:migrations", metadata)


#: days before the RP certificate expires from which the operators are warned
CERTIFICATE_WARNING_DAYS = certificates.WARNING_DAYS


@hookimpl
def mypages_jobs():
    return certificates.JOBS


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("bankid", _("BankID"), "bankid_settings")]


@hookimpl
def mypages_health_checks(registry, now):
    """The RP certificate's days left: a warning 30 days before it expires, down after."""
    service = service_of(registry)
    if not service.configured or service.is_fake:
        return []
    expires = certificate_expiry(service.config)
    days = (expires - now).days
    data = {"days_left": days, "expires": expires.date().isoformat()}
    if expires <= now:
        return [HealthCheck("bankid.certificate", HealthCheck.DOWN,
                            _("The BankID RP certificate has expired."), data)]
    if days < CERTIFICATE_WARNING_DAYS:
        return [HealthCheck("bankid.certificate", HealthCheck.WARN,
                            _("Days left on the BankID RP certificate: ${days}. Order a new "
                              "one from your bank.", mapping={"days": days}), data)]
    return [HealthCheck("bankid.certificate", HealthCheck.OK,
                        _("Days left on the BankID RP certificate: ${days}.",
                          mapping={"days": days}), data)]


@hookimpl(trylast=True)  # after the demo company and its people are made
def mypages_demo(context):
    """The demo admin's BankID, linked, for the fake service's phone page."""
    admin = context.person("admin@demo.example", "Astrid Admin", "demo-admin-password")
    if context.dbsession.scalar(select(Identity.user_id).where(
            Identity.user_id == admin.id)) is None:
        identities.link(context.dbsession, context.registry, admin.id, DEMO_PERSONAL_NUMBER,
                        context.now(), confirmed=True)
    return [f"BankID {DEMO_PERSONAL_NUMBER} linked to {admin.email} "
            f"(approve at {context.base_url}/_dev/bankid/)"]


def includeme(config):
    config.include("mypages_bankid.web")
