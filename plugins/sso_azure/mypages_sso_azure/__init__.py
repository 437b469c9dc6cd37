"""Microsoft Entra ID (Azure AD) for the "Single Sign On" module.

Each company connects its own tenant ("customer-specific AAD provider"):
over OpenID Connect with an app registration (tenant id, client id, client
secret), or over SAML 2.0 with the tenant's federation metadata. The core
does the protocol work; this plugin says where the tenant's documents are,
which issuer is right, and how Entra's claims become an identity:

* people are keyed on ``tid`` + ``oid``, never on e-mail, ``upn`` or
  ``preferred_username`` (mutable, not necessarily verified: "nOAuth");
* the issuer must be the configured tenant's, checked against the token's
  ``tid`` as well;
* an e-mail is vouched for only when Entra says its domain is verified
  (the optional claim ``xms_edov``);
* groups are object ids; when Entra sends the overage indicator instead of
  the list, they are read from Microsoft Graph, or mapping is skipped with a
  warning for the admins.
"""
from mypages.toolkit import hookimpl

from mypages_sso_azure.provider import EntraId

#: the hookspec version this plugin was written for
mypages_hookspec = "2.1"


@hookimpl
def mypages_sso_providers():
    return [EntraId()]


def includeme(config):
    config.add_translation_dirs("mypages_sso_azure:locale/")
