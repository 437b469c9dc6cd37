"""Any SAML 2.0 identity provider (Shibboleth, Keycloak, Okta, AD FS, ...), configured
from its metadata; the core offers it so SAML works without a provider plugin."""
from __future__ import annotations

from mypages.contract import FederatedIdentity, SsoProvider, SsoRejected, SsoSetting
from mypages.i18n import _
from mypages.sso import saml

# with NAME_FORMAT_URI attribute names arrive as OIDs (eduPerson / inetOrgPerson)
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
GIVEN_NAME = "urn:oid:2.5.4.42"
SURNAME = "urn:oid:2.5.4.4"
SUBJECT_MAX = 300  # SsoLink.subject


def _first(claims: dict, name: str) -> str:
    for value in claims.get(name) or ():
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


class GenericSamlProvider(SsoProvider):
    key = "saml"
    title = _("Other SAML 2.0 identity provider")
    protocols = ("saml",)

    def settings(self) -> list[SsoSetting]:
        saml_only = ("saml",)
        return [
            SsoSetting("idp_metadata_url", _("Metadata URL of the identity provider"),
                       required=False, protocols=saml_only,
                       help=_("An https:// address. Or leave it empty and paste the metadata below.")),
            SsoSetting("idp_metadata_xml", _("Metadata XML of the identity provider"),
                       required=False, protocols=saml_only, kind="textarea"),
            SsoSetting("email_attribute", _("Attribute with the e-mail address"),
                       required=False, protocols=saml_only,
                       help=_("Empty means ${name} (mail).", mapping={"name": MAIL})),
            SsoSetting("subject_attribute", _("Attribute with an unchangeable user id"),
                       required=False, protocols=saml_only,
                       help=_("Empty means the NameID, which must then be of the persistent "
                              "format. Never use an e-mail address or a user name here.")),
            SsoSetting("groups_attribute", _("Attribute with the groups"),
                       required=False, protocols=saml_only,
                       help=_("Needed for group mapping only.")),
            SsoSetting("want_messages_signed", _("The whole response must be signed, too"),
                       required=False, protocols=saml_only, kind="checkbox",
                       help=_("The assertion must always be signed. Tick this if your identity "
                              "provider also signs the response around it.")),
            SsoSetting("email_verified_by_idp", _("The identity provider verifies e-mail addresses"),
                       required=False, protocols=saml_only, kind="checkbox",
                       help=_("Tick it only if nobody can choose their own e-mail address at the "
                              "identity provider. Existing accounts are linked, and new ones "
                              "created, only when it is ticked.")),
        ]

    def saml_nameid_format(self, values: dict) -> str:
        # keyed on an attribute, the NameID is whatever the identity provider likes
        return saml.UNSPECIFIED if values.get("subject_attribute") else saml.PERSISTENT

    def identity(self, values: dict, claims: dict, userinfo: dict | None,
                 protocol: str) -> FederatedIdentity:
        subject_attribute = (values.get("subject_attribute") or "").strip()
        if subject_attribute:
            found = [v for v in claims.get(subject_attribute) or () if isinstance(v, str) and v.strip()]
            if len(found) != 1:
                raise SsoRejected("saml-subject-missing", _(
                    "The identity provider did not send the user id this connection needs."))
            # another namespace than NameIDs, so switching the setting cannot mix people up
            subject = f"{subject_attribute}={found[0].strip()}"
        else:
            if claims.get("nameid_format") != saml.PERSISTENT:
                raise SsoRejected("saml-nameid-not-persistent", _(
                    "The identity provider must send a persistent NameID, or the connection "
                    "must name an attribute with an unchangeable user id."))
            subject = claims.get("nameid") or ""
        if not subject or len(subject) > SUBJECT_MAX:
            raise SsoRejected("saml-subject-missing")
        email = _first(claims, (values.get("email_attribute") or "").strip() or MAIL).lower()
        name = _first(claims, DISPLAY_NAME) or " ".join(
            part for part in (_first(claims, GIVEN_NAME), _first(claims, SURNAME)) if part)
        groups_attribute = (values.get("groups_attribute") or "").strip()
        if groups_attribute:
            groups = tuple(v for v in claims.get(groups_attribute) or () if isinstance(v, str))
            warning = None
        else:
            groups, warning = None, _("The connection names no attribute with the groups.")
        return FederatedIdentity(
            subject=subject, email=email or None,
            email_verified=bool(email) and values.get("email_verified_by_idp") == "yes",
            name=name, groups=groups, groups_warning=warning)
