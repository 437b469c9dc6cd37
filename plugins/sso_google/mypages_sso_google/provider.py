from __future__ import annotations

from urllib.parse import urlsplit

from mypages.toolkit import (FederatedIdentity, SsoProvider, SsoRejected, SsoSetting,
                             TranslationStringFactory, is_endpoint)

_ = TranslationStringFactory("mypages_sso_google")

GOOGLE_ISSUER = "https://accounts.google.com"
WELL_KNOWN = "/.well-known/openid-configuration"


def _discovery_address(value: str) -> bool:
    return is_endpoint(value) and urlsplit(value).path.endswith(WELL_KNOWN)


class GoogleWorkspace(SsoProvider):
    key = "google"
    title = _("Google Workspace")
    protocols = ("oidc",)
    scopes = ("openid", "email", "profile")

    def settings(self):
        return [
            SsoSetting("client_id", _("Client ID"),
                       help=_("From Google Cloud console > APIs & Services > Credentials: an "
                              "OAuth client ID of the type Web application.")),
            SsoSetting("client_secret", _("Client secret"), secret=True),
            SsoSetting("discovery_url", _("Discovery document"), required=False,
                       help=_("Leave empty: Google's own is used. Only for testing against "
                              "another OpenID provider.")),
        ]

    def check_settings(self, values):
        if values.get("discovery_url") and not _discovery_address(values["discovery_url"]):
            return [_("${value} is not the https:// address of a discovery document "
                      "(…/.well-known/openid-configuration).",
                      mapping={"value": values["discovery_url"]})]
        return []

    def discovery_url(self, values):
        return values.get("discovery_url") or GOOGLE_ISSUER + WELL_KNOWN

    def authorize_params(self, values, login_hint):
        params = {"login_hint": login_hint} if login_hint else {}
        domains = values.get("verified_domains") or ()
        hinted = login_hint.rsplit("@", 1)[-1].lower() if login_hint and "@" in login_hint else None
        # a hint for the account chooser only; the hd claim is what is checked
        hd = hinted if hinted in domains else (domains[0] if domains else None)
        if hd:
            params["hd"] = hd
        return params

    def check_issuer(self, values, discovered_issuer, claims):
        accepted = {discovered_issuer}
        if discovered_issuer == GOOGLE_ISSUER:
            accepted.add("accounts.google.com")  # Google's ID tokens use either form
        if claims.get("iss") not in accepted:
            raise SsoRejected("invalid-iss")

    def identity(self, values, claims, userinfo, protocol):
        verified = claims.get("email_verified")
        if not (verified is True or verified == "true") or not isinstance(claims.get("email"), str):
            raise SsoRejected("email-unverified", _(
                "Google has not verified the e-mail address of this account."))
        hd = claims.get("hd")
        domains = {domain.lower() for domain in values.get("verified_domains") or ()}
        if not isinstance(hd, str) or hd.lower() not in domains:
            # a consumer account, or another organisation's Workspace
            raise SsoRejected("hd-mismatch", _(
                "Sign in with your Google Workspace account at this company."))
        return FederatedIdentity(
            subject=claims["sub"],
            email=claims["email"],
            email_verified=True,
            name=str(claims.get("name") or ""),
            # Google sends no group memberships: mapping is skipped, never treated as none
            groups=None,
            groups_warning=_("Google Workspace does not send group memberships, so group "
                             "mapping does not apply to Google sign-in."),
        )
