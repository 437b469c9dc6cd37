"""Operators make, list and revoke companies' API tokens at the command line."""
from sqlalchemy import select

from mypages.api.models import ApiToken
from mypages.audit.models import AuditEvent


def test_create_list_and_revoke(mypages_cli, factory, testapp, dbsession):
    company = factory.company()
    made = mypages_cli.json("api-tokens", "create", str(company.id), "--name", "ERP",
                            "--scope", "modules:read", "--days", "30")[0]
    token = made["token"]
    assert token.startswith(f"mp_{made['id']}_")
    testapp.get("/api/v1/modules", headers={"Authorization": f"Bearer {token}"})
    listed = mypages_cli.json("api-tokens", "list", str(company.id))
    assert [(t["name"], t["scopes"], t["created_by"]) for t in listed] == \
        [("ERP", "modules:read", "(operator)")]
    assert token.split("_", 2)[2] not in mypages_cli("api-tokens", "list", str(company.id)).stdout
    mypages_cli("api-tokens", "revoke", str(company.id), str(made["id"]))
    testapp.get("/api/v1/modules", headers={"Authorization": f"Bearer {token}"}, status=401)
    actions = dbsession.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["api_token.created", "api_token.revoked"]


def test_refusals_change_nothing(mypages_cli, factory, dbsession):
    company, other = factory.company(), factory.company()
    result = mypages_cli("api-tokens", "create", str(company.id), "--name", "x",
                         "--scope", "nosuch:read", status=2)
    assert "nosuch:read" in result.stderr
    mypages_cli("api-tokens", "create", "999999", "--name", "x", "--scope", "modules:read",
                status=2)
    made = mypages_cli.json("api-tokens", "create", str(company.id), "--name", "x",
                            "--scope", "modules:read")[0]
    # a token is revoked only through its own company
    mypages_cli("api-tokens", "revoke", str(other.id), str(made["id"]), status=2)
    assert dbsession.scalars(select(ApiToken.revoked_at)).one() is None
