"""A company moves its connection to another identity provider: the people linked at the
former one are linked again at the new one, not refused as linked to someone else."""
from __future__ import annotations

from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages_devtools.fakes.oidc_provider import azure_user, google_user
from mypages.sso.models import SsoLink
from mypages.testing.plugin import CSRF_PATTERN
from mypages.testing.sso import (AZURE_TENANT, CLIENT_SECRET, add_verified_domains,
                                 enable_sso_module, through_idp)

ADMIN_OID = "5f1a6e0c-1111-4a4a-9c9c-000000000001"


def save(testapp, tab, provider, **fields):
    form = testapp.get(tab, {"provider": provider, "protocol": "oidc"}).forms["connection-form"]
    for name, value in fields.items():
        form[name] = value
    form.submit(status=303)


def press_test(testapp, tab):
    token = CSRF_PATTERN.search(testapp.get(tab).text).group(1)
    return through_idp(testapp, testapp.post(f"{tab}/test", {"csrf_token": token}, status=303))


def links(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(SsoLink.subject)).all()


def test_switching_the_identity_provider_links_people_again(testapp, factory, dbsession,
                                                            signed_in, azure_idp, google_idp):
    company = factory.company("Example AB")
    enable_sso_module(dbsession, company)
    add_verified_domains(dbsession, company, "example.se")
    admin = factory.user("admin@example.se", company=company, role="admin")
    google_idp.add_user(google_user("104417", "admin@example.se", hd="example.se"))
    azure_idp.add_user(azure_user(AZURE_TENANT, ADMIN_OID, "admin@example.se", xms_edov=True))
    signed_in(admin)
    tab = f"/c/{company.id}/settings/sso"

    save(testapp, tab, "google", client_id=google_idp.client_id, client_secret=CLIENT_SECRET,
         discovery_url=google_idp.discovery_url)
    assert press_test(testapp, tab).status_int == 303
    assert links(dbsession) == ["104417"]

    save(testapp, tab, "azure", tenant_id=AZURE_TENANT, client_id=azure_idp.client_id,
         client_secret=CLIENT_SECRET, authority=azure_idp.base_url)
    assert links(dbsession) == []
    assert press_test(testapp, tab).location.endswith(tab)
    assert links(dbsession) == [f"{AZURE_TENANT}:{ADMIN_OID}"]
    saved = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "sso.connection_saved").order_by(AuditEvent.id)).all()
    assert [event.details["links_removed"] for event in saved] == [0, 1]

    # saving the same provider again keeps the links
    save(testapp, tab, "azure", tenant_id=AZURE_TENANT, client_id=azure_idp.client_id,
         authority=azure_idp.base_url)
    assert links(dbsession) == [f"{AZURE_TENANT}:{ADMIN_OID}"]

    # a new secret alone keeps them too; other settings (here another app registration)
    # do not: its subjects may be other people
    save(testapp, tab, "azure", tenant_id=AZURE_TENANT, client_id=azure_idp.client_id,
         client_secret=CLIENT_SECRET + "-rotated", authority=azure_idp.base_url)
    assert links(dbsession) == [f"{AZURE_TENANT}:{ADMIN_OID}"]
    save(testapp, tab, "azure", tenant_id=AZURE_TENANT, client_id="another-app",
         authority=azure_idp.base_url)
    assert links(dbsession) == []
