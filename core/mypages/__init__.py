"""mypages: the company portal core.

``main`` is the composition root: it reads like a table of contents of the
core's domains, then adds every enabled plugin.
"""
import warnings

# Pyramid 2.x imports pkg_resources (setuptools < 81 is pinned for it); nothing to act on
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from pyramid.config import Configurator  # noqa: E402

from mypages.web.errors import LastResort  # noqa: E402


def main(global_config, **settings):
    """Build the WSGI application (PasteDeploy ``paste.app_factory``)."""
    with Configurator(settings=settings) as config:
        config.include(".settings")       # validated settings; production refuses unsafe ones
        config.include(".crypto")         # encryption at rest with rotatable keys
        config.include(".i18n")           # locale negotiation, catalogs, Babel formatting
        config.include(".db")             # engine, request.dbsession, migrations
        config.include(".client_address")  # the client address; forwarded only by trusted proxies
        config.include(".audit")          # request.audit(...)
        config.include(".outbound")       # the HTTP client for typed addresses; never internal ones
        config.include(".plugins")        # pluggy manager, discovery, config.include_plugins()
        config.include(".web")            # layout, static files, security headers, error pages
        config.include(".accounts")       # users, passwords, 2FA, sessions, sign-in policy
        config.include(".web.context")    # request.user, the company page: one loader, one SELECT
        config.include(".companies")      # companies, memberships, company context
        config.include(".modules")        # catalogue, trial lifecycle, module= predicate
        config.include(".jobs")           # periodic and queued jobs with leases
        config.include(".notifications")  # e-mail
        config.include(".sso")            # Single Sign On module: OIDC, SAML, verified domains
        config.include(".operator")       # platform operators' pages
        config.include_plugins()          # every enabled plugin, last
    return LastResort(config.make_wsgi_app())  # errors that escape Pyramid get a page too
