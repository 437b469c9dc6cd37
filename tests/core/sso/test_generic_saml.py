"""The core's "Other SAML 2.0 identity provider": how verified SAML claims become an identity,
and which metadata settings it accepts."""
from __future__ import annotations

import pytest

from mypages.contract import SsoRejected
from mypages.sso.generic_saml import MAIL, GenericSamlProvider
from mypages.sso.saml import PERSISTENT, check_idp_metadata

EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def claims(nameid="p-123", nameid_format=PERSISTENT, **attributes) -> dict:
    return {**attributes, "nameid": nameid, "nameid_format": nameid_format}


@pytest.fixture
def provider():
    return GenericSamlProvider()


def test_offered_by_the_core_as_a_sign_in_method(app):
    assert isinstance(app.registry["sso.providers"]["saml"], GenericSamlProvider)
    assert "sso:saml" in app.registry["accounts.login_methods"]


def test_persistent_nameid_is_the_subject(provider):
    identity = provider.identity({}, claims(**{MAIL: ["Alice@Example.se"]}), None, "saml")
    assert identity.subject == "p-123"
    assert identity.email == "alice@example.se"


def test_other_nameid_formats_are_refused(provider):
    # an e-mail NameID can change and be reassigned: never a key
    with pytest.raises(SsoRejected) as refused:
        provider.identity({}, claims("alice@example.se", EMAIL_FORMAT), None, "saml")
    assert refused.value.reason == "saml-nameid-not-persistent"


def test_a_configured_attribute_is_the_subject(provider):
    values = {"subject_attribute": "urn:oid:1.3.6.1.4.1.5923.1.1.1.10"}
    identity = provider.identity(values, claims(
        "alice@example.se", EMAIL_FORMAT, **{"urn:oid:1.3.6.1.4.1.5923.1.1.1.10": ["id-42"]}),
        None, "saml")
    assert identity.subject == "urn:oid:1.3.6.1.4.1.5923.1.1.1.10=id-42"
    with pytest.raises(SsoRejected) as refused:
        provider.identity(values, claims(), None, "saml")
    assert refused.value.reason == "saml-subject-missing"
    assert provider.saml_nameid_format(values) != PERSISTENT


def test_email_is_vouched_for_only_when_the_admin_says_so(provider):
    mail = {MAIL: ["alice@example.se"]}
    assert provider.identity({}, claims(**mail), None, "saml").email_verified is False
    ticked = {"email_verified_by_idp": "yes"}
    assert provider.identity(ticked, claims(**mail), None, "saml").email_verified is True
    assert provider.identity(ticked, claims(), None, "saml").email_verified is False


def test_email_attribute_can_be_named(provider):
    values = {"email_attribute": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}
    identity = provider.identity(values, claims(**{
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": ["bo@example.se"],
        MAIL: ["other@example.se"]}), None, "saml")
    assert identity.email == "bo@example.se"


def test_groups_only_from_a_named_attribute(provider):
    unnamed = provider.identity({}, claims(groups=["g1"]), None, "saml")
    assert unnamed.groups is None and unnamed.groups_warning  # mapping skipped, and said so
    named = provider.identity({"groups_attribute": "groups"}, claims(groups=["g1", "g2"]), None, "saml")
    assert named.groups == ("g1", "g2")
    assert provider.identity({"groups_attribute": "groups"}, claims(), None, "saml").groups == ()


def test_the_metadata_settings_are_checked(app, saml_idp):
    """Checked by the core for every SAML connection before it is saved."""
    def check(values):
        return check_idp_metadata(app.registry["outbound"], values)

    assert check({}) != []
    assert check({"idp_metadata_url": saml_idp.metadata_url}) == []
    assert check({"idp_metadata_xml": saml_idp.metadata()}) == []
    assert check({"idp_metadata_url": saml_idp.metadata_url,
                  "idp_metadata_xml": saml_idp.metadata()}) != []
    assert check({"idp_metadata_url": "http://127.0.0.1:9/metadata"}) != []
    assert check({"idp_metadata_url": saml_idp.base_url + "/nothing"}) != []
    assert check({"idp_metadata_xml": "<not-metadata/>"}) != []
    without_key = saml_idp.metadata().replace('use="signing"', 'use="encryption"')
    assert check({"idp_metadata_xml": without_key}) != []
