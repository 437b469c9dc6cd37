"""mypages: the company portal core.

``main`` is the composition root: it reads like a table of contents of the
core's domains, then adds every enabled plugin.

:data:`LAYERS` is the order the core's packages build on each other, lowest first. A
package imports only from packages in layers below its own: never from its own layer (the
packages of one layer are peers that know nothing of each other) and never from above.
Where a lower layer needs something only a higher one knows, the higher one gives it at
start-up: a directive, a registry entry or a request method its ``includeme`` sets.
tests/core/test_layers.py holds the core to this order; docs/contributing/architecture.rst
explains it.
"""
import warnings

# Pyramid 2.x imports pkg_resources (setuptools < 81 is pinned for it); nothing to act on
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from pyramid.config import Configurator  # noqa: E402
from pyramid.exceptions import ConfigurationConflictError  # noqa: E402

from mypages.db.migrate import check_pending  # noqa: E402
from mypages.plugins import explain_conflict  # noqa: E402
from mypages.web.errors import LastResort  # noqa: E402
from mypages.web.request_class import with_prepared_requests  # noqa: E402

#: The core's top-level modules and packages in layers, lowest first.
LAYERS = (
    # infrastructure: knows no domain
    ("services",),             # the services' keys and accessors (clock, mailer, ...)
    ("hookspecs", "client_address"),  # the plugin contract's hooks; the client's address
    ("settings", "logs"),      # typed settings, production's refusals; request ids, JSON logs
    ("crypto", "storage"),     # encryption at rest; blob storage (local files, S3)
    ("i18n", "db"),            # translations and formatting; engine, sessions, transactions
    ("audit", "outbound", "refusals"),  # the audit trail; HTTP to typed addresses; refusals
    ("contract", "web"),       # the plugin contract's records; layout, headers, error pages
    ("plugins",),              # the pluggy manager, discovery, per-company hook callers
    ("jobs", "notifications", "dev"),  # periodic and queued jobs; e-mail; /_dev/ stand-ins
    ("events", "health", "signing"),  # what an event hook acts with; liveness and readiness
                               # checks; asking a person to sign with a plugin's signer
    ("work",),                 # what a domain function acts with: session, services, actor
    # domains
    ("accounts", "companies"),  # people's accounts and sign-in; companies and memberships
    ("modules", "people"),     # modules and their trial; a company's people and invitations
    ("inbox",),                # the notification centre: the bell, What's new, trial reminders
    ("policy", "billing"),     # the sign-in policy, judging every session; orders and receipts
    ("api", "sso"),            # the REST API and its tokens; the Single Sign On module
    ("operator", "governance"),  # the operators' pages; reading and keeping the audit
                               # trail, its watch, dormant access
    ("privacy",),              # data export and erasure, of everything below it
    # entry points
    ("demo",),                 # what plugins seed demo data with (mypages demo)
    ("mypages",),              # this module: the composition root
    ("cli", "authoring"),      # the mypages command; the template of a new plugin
    ("testing", "toolkit"),    # the pytest plugin; the plugins' one import
)


def main(global_config, **settings):
    """Build the WSGI application (PasteDeploy ``paste.app_factory``); production refuses to
    start on a database with pending migrations, development warns."""
    app = application(settings)
    check_pending(app.registry, global_config.get("__file__") or "production.ini")
    return app


def application(settings: dict):
    """The WSGI application, not yet checked against the database (``mypages db upgrade``
    runs on one that needs it)."""
    config = Configurator(settings=settings)
    try:
        with config:
            config.include(".services")       # the services behind seams (pyramid_services)
            config.include(".settings")       # typed settings, parsed once; production refuses unsafe
            config.include(".crypto")         # encryption at rest with rotatable keys
            config.include(".storage")        # blobs: local files or S3, scoped per company
            config.include(".i18n")           # locale negotiation, catalogs, Babel formatting
            config.include(".db")             # engine, request.dbsession, migrations
            config.include(".client_address")  # the client address; forwarded only by trusted proxies
            config.include(".logs")           # request ids in every log line, and the response
            config.include(".audit")          # request.audit(...)
            config.include(".outbound")       # the HTTP client for typed addresses; never internal ones
            config.include(".plugins")        # pluggy manager, discovery, config.include_plugins()
            config.include(".web")            # layout, static files, security headers, error pages
            config.include(".jobs")           # periodic and queued jobs with leases
            config.include(".health")         # /healthz and /readyz for load balancers and operators
            config.include(".notifications")  # e-mail
            config.include(".accounts")       # users, passwords, 2FA, sessions, the sign-in pages
            config.include(".companies")      # companies, memberships, company pages
            config.include(".modules")        # catalogue, trial lifecycle, module= predicate
            config.include(".people")         # a company's people: members, roles, invitations
            config.include(".inbox")          # notifications: the bell, What's new, reminders
            config.include(".policy")         # the sign-in policy: engine, company and platform policy
            config.include(".billing")        # the Billing tab, order pages and receipts
            config.include(".api")            # REST API under /api/v1: tokens, OpenAPI, rate limits
            config.include(".sso")            # Single Sign On module: OIDC, SAML, verified domains
            config.include(".operator")       # platform operators' pages
            config.include(".governance")     # the audit trail's pages and purge; dormant access
            config.include(".privacy")        # data export and erasure; a person's own data
            config.include(".dev")            # plugins' offline stand-ins under /_dev/ (development)
            config.include_plugins()          # every enabled plugin, last
    except ConfigurationConflictError as conflict:
        # two plugins (or a plugin and the core) adding one route name: say which
        explained = explain_conflict(conflict, config.registry.get("plugins.found", []))
        if explained is conflict:
            raise
        raise explained from conflict
    router = with_prepared_requests(config.make_wsgi_app())  # request methods applied once
    return LastResort(router)  # errors that escape Pyramid get a page too
