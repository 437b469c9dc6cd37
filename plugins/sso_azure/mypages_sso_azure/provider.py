from __future__ import annotations

import re
from urllib.parse import urlsplit

from mypages.toolkit import (FederatedIdentity, OutboundError, SsoProvider, SsoRejected,
                             SsoSetting, TranslationStringFactory, is_endpoint)

_ = TranslationStringFactory("mypages_sso_azure")

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GRAPH_PAGES = 50  # at 100 a page, far beyond what a token could carry

# what Entra ID puts in a SAML assertion
SAML_TENANT = "http://schemas.microsoft.com/identity/claims/tenantid"
SAML_OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
SAML_NAME = "http://schemas.microsoft.com/identity/claims/displayname"
SAML_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
SAML_GROUPS = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
SAML_GROUPS_LINK = "http://schemas.microsoft.com/claims/groups.link"


def _first(value):
    """SAML attributes arrive as lists."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1")) or value == 1


class EntraId(SsoProvider):
    key = "azure"
    title = _("Microsoft Entra ID")
    protocols = ("oidc", "saml")
    scopes = ("openid", "profile", "email")

    def settings(self):
        return [
            SsoSetting("tenant_id", _("Directory (tenant) ID"),
                       help=_("The ID of your organisation in Entra ID, for example "
                              "9188040d-6c67-4c5b-b112-36a304b66dad (Entra ID > Overview).")),
            SsoSetting("client_id", _("Application (client) ID"), protocols=("oidc",),
                       help=_("From your app registration's overview page.")),
            SsoSetting("client_secret", _("Client secret"), secret=True, protocols=("oidc",),
                       help=_("The value of a client secret of the app registration "
                              "(Certificates & secrets).")),
            SsoSetting("authority", _("Authority"), required=False, protocols=("oidc",),
                       help=_("Leave empty for Microsoft's global cloud "
                              "(https://login.microsoftonline.com). National clouds have "
                              "their own address.")),
            SsoSetting("graph_url", _("Microsoft Graph address"), required=False,
                       protocols=("oidc",),
                       help=_("For people in more than 200 groups, whose groups Entra ID does "
                              "not put in the token: https://graph.microsoft.com, with the "
                              "permission GroupMember.Read.All granted to the app. Leave "
                              "empty to skip group mapping for them instead.")),
            SsoSetting("idp_metadata_url", _("Federation metadata URL"), required=False,
                       protocols=("saml",),
                       help=_("App Federation Metadata Url, from the enterprise "
                              "application's Single sign-on page.")),
            SsoSetting("idp_metadata_xml", _("Federation metadata XML"), required=False,
                       protocols=("saml",), kind="textarea",
                       help=_("Or paste the Federation Metadata XML file instead of its URL.")),
            SsoSetting("email_verified_by_idp",
                       _("The e-mail addresses Entra ID sends are verified in our tenant"),
                       required=False, protocols=("saml",), kind="checkbox",
                       help=_("Tick only if the e-mail claim of the enterprise application comes "
                              "from verified domains of your tenant (SAML has no xms_edov claim). "
                              "It lets existing accounts be linked and new ones be created.")),
        ]

    def check_settings(self, values):
        problems = []
        if values.get("tenant_id") and not GUID.match(values["tenant_id"].strip().lower()):
            # "common" or "organizations" would let any tenant in; a domain name is no key
            problems.append(_("The tenant ID is a GUID such as "
                              "9188040d-6c67-4c5b-b112-36a304b66dad."))
        for name in ("authority", "graph_url"):
            if values.get(name) and not is_endpoint(values[name]):
                problems.append(_("${value} is not an https:// address.",
                                  mapping={"value": values[name]}))
        if values.get("graph_url") and is_endpoint(values["graph_url"]):
            # the core checks the authority (through the discovery address), not Graph's
            try:
                self.outbound.check(values["graph_url"])
            except OutboundError as error:
                problems.append(error.message)
        if values.get("idp_metadata_url") and not is_endpoint(values["idp_metadata_url"], allow_query=True):
            problems.append(_("${value} is not an https:// address.",
                              mapping={"value": values["idp_metadata_url"]}))
        saml = "client_id" not in values and "client_secret" not in values
        if saml and not (values.get("idp_metadata_url") or values.get("idp_metadata_xml")):
            problems.append(_("Give the federation metadata URL or paste its XML."))
        return problems

    # -- OpenID Connect --------------------------------------------------------------

    @staticmethod
    def authority(values) -> str:
        return (values.get("authority") or DEFAULT_AUTHORITY).rstrip("/")

    @staticmethod
    def tenant(values) -> str:
        return values["tenant_id"].strip().lower()

    def discovery_url(self, values):
        return f"{self.authority(values)}/{self.tenant(values)}/v2.0/.well-known/openid-configuration"

    def check_issuer(self, values, discovered_issuer, claims):
        # Multi-tenant documents say "{tenantid}": the token's tid decides the issuer,
        # and it must be this company's tenant.
        tid = claims.get("tid")
        if not isinstance(tid, str) or tid.lower() != self.tenant(values):
            raise SsoRejected("tenant-mismatch", _(
                "You signed in with an account of another organisation. Use your work account "
                "at this company."))
        expected = f"{self.authority(values)}/{tid}/v2.0"
        if claims.get("iss") != expected or discovered_issuer.replace("{tenantid}", tid) != expected:
            raise SsoRejected("invalid-iss")

    def identity(self, values, claims, userinfo, protocol):
        if protocol == "saml":
            return self._saml_identity(values, claims)
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise SsoRejected("missing-oid")
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        groups, warning = self._groups(claims)
        return FederatedIdentity(
            subject=f"{claims['tid'].lower()}:{oid.lower()}",
            email=email,
            # only Entra's word that the tenant verified the e-mail's domain counts
            email_verified=bool(email) and _true(claims.get("xms_edov")),
            name=str(claims.get("name") or ""),
            groups=groups,
            groups_warning=warning,
        )

    @staticmethod
    def _groups(claims):
        overage = "groups" in (claims.get("_claim_names") or {}) or _true(claims.get("hasgroups"))
        if overage:
            return None, _("Entra ID did not send the groups of someone in many groups, and "
                           "Microsoft Graph is not set up to read them.")
        groups = claims.get("groups")
        if not isinstance(groups, list):
            return None, _("Entra ID sent no groups. Add the groups claim to the app "
                           "registration (Token configuration).")
        return tuple(str(group) for group in groups), None

    def read_groups(self, values, claims, access_token):
        """Microsoft Graph ``/me/transitiveMemberOf``: groups, also through nested groups."""
        graph = (values.get("graph_url") or "").rstrip("/")
        if not graph:
            return None
        host = urlsplit(graph).netloc
        url = f"{graph}/v1.0/me/transitiveMemberOf?$select=id"
        groups = []
        for _page in range(GRAPH_PAGES):
            try:
                response = self.outbound.get(url, headers={"Authorization": f"Bearer {access_token}"})
                page = response.json() if response.status_code == 200 else None
            except (OutboundError, ValueError):
                return None
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                return None
            groups += [str(entry["id"]) for entry in page["value"]
                       if isinstance(entry, dict) and entry.get("id")
                       and entry.get("@odata.type") == "#microsoft.graph.group"]
            url = page.get("@odata.nextLink")
            if not url:
                return tuple(groups)
            if urlsplit(url).netloc != host:
                return None  # the access token goes to Graph only
        return None  # more pages than anyone has groups: do not guess

    # -- SAML 2.0 --------------------------------------------------------------------

    def _saml_identity(self, values, attributes):
        tid, oid = _first(attributes.get(SAML_TENANT)), _first(attributes.get(SAML_OBJECT_ID))
        if not tid or not oid:
            raise SsoRejected("missing-oid")
        if str(tid).lower() != self.tenant(values):
            raise SsoRejected("tenant-mismatch", _(
                "You signed in with an account of another organisation. Use your work account "
                "at this company."))
        email = _first(attributes.get(SAML_EMAIL))
        if attributes.get(SAML_GROUPS_LINK):
            groups, warning = None, _("Entra ID did not send the groups of someone in many "
                                      "groups; SAML sign-in cannot read them.")
        elif SAML_GROUPS in attributes:
            groups, warning = tuple(str(g) for g in attributes[SAML_GROUPS]), None
        else:
            groups, warning = None, _("Entra ID sent no groups. Add the groups claim to the app "
                                      "registration (Token configuration).")
        return FederatedIdentity(
            subject=f"{str(tid).lower()}:{str(oid).lower()}",
            email=str(email) if email else None,
            # a SAML assertion says nothing about who verified the domain: the admin says it
            email_verified=bool(email) and values.get("email_verified_by_idp") == "yes",
            name=str(_first(attributes.get(SAML_NAME)) or ""),
            groups=groups,
            groups_warning=warning,
        )
