"""pytest fixtures for the core's tests and for plugin authors.

Installed as a ``pytest11`` entry point, so a plugin's own test suite gets
them just by having mypages installed. Every test that uses the database
runs twice: on SQLite and on a throwaway PostgreSQL server that the fixtures
start on loopback (``--mypages-db=sqlite`` runs one of them only).
"""
from __future__ import annotations

import os
import time
import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import transaction
from pyramid.scripting import prepare
from sqlalchemy import inspect as sa_inspect, select, text
from sqlalchemy.orm import sessionmaker

from mypages import main
from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.contract import AuditEventInfo, CompanyInfo, UserInfo
from mypages.db import Base, session_in_transaction
from mypages.db.migrate import migration_sources, upgrade_all
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import SETTINGS_KEY, find, settings_of
from mypages.storage import root_store
from mypages.settings import Settings
from mypages.testing.chromium import (CHROMIUM_ARGS, chromium_path, contexts, seed_company,
                                      serve_portal)
from mypages.testing.cli import OperatorCli
from mypages.testing.clock import TestClock
from mypages.testing.factories import (DEFAULT_PASSWORD, make_api_token, make_company,
                                       make_membership, make_policy, make_user,
                                       testing_settings)
from mypages.testing.jobs import JobRunner
from mypages.testing.lifecycle import ModuleSwitch
from mypages.testing.postgres import ThrowawayPostgres
from mypages.testing.saml import saml_idp, saml_idp_server  # noqa: F401  (fixtures)
from mypages.testing.services import register_service
from mypages.testing.web import (CSRF_PATTERN, csrf_token, enrol_two_factor,  # noqa: F401
                                 new_browser, sign_in)
from mypages.work import Actor, Work

# Every pytest run in an environment with mypages installed loads this plugin: what needs a
# package of the "test" extra (webtest, aiosmtpd, dnslib, trustme, time-machine) or of
# mypages-devtools (the identity providers)
# is imported by the fixtures that use it.

DATABASE_KINDS = ("sqlite", "postgresql")


def _let_pyramid_read_rewritten_packages() -> None:
    """pytest loads a pytest11 plugin's whole distribution through its assertion
    rewriter; Pyramid resolves templates and catalogs with pkg_resources, which
    must be told that loader is an ordinary file-system one."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pkg_resources
    from _pytest.assertion.rewrite import AssertionRewritingHook

    pkg_resources.register_loader_type(AssertionRewritingHook, pkg_resources.DefaultProvider)


_let_pyramid_read_rewritten_packages()


def pytest_addoption(parser):
    parser.addoption("--mypages-db", default=os.environ.get("MYPAGES_TEST_DB", ",".join(DATABASE_KINDS)),
                     help="comma-separated databases to run the database tests on "
                          "(sqlite, postgresql); default: both")


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: end-to-end tests in a real headless Chromium "
                                       "(the browser and live_portal fixtures)")
    config.addinivalue_line(
        "markers", "only_database(kind, reason): run this database test on one database only "
                   "(sqlite or postgresql), saying why the other adds nothing")


def pytest_generate_tests(metafunc):
    if "mypages_db_kind" in metafunc.fixturenames:
        kinds = [kind.strip() for kind in metafunc.config.getoption("--mypages-db").split(",") if kind.strip()]
        unknown = set(kinds) - set(DATABASE_KINDS)
        if unknown:
            raise pytest.UsageError(f"--mypages-db: unknown database {sorted(unknown)}")
        only = metafunc.definition.get_closest_marker("only_database")
        if only is not None:
            kind, reason = (list(only.args) + [only.kwargs.get("reason", "")])[:2]
            if kind not in DATABASE_KINDS or not str(reason).strip():
                raise pytest.UsageError(f"{metafunc.definition.nodeid}: only_database needs one of "
                                        f"{', '.join(DATABASE_KINDS)} and a reason")
            kinds = [k for k in kinds if k == kind]
        metafunc.parametrize("mypages_db_kind", kinds, scope="session")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of our own for the whole run (never skipped: missing is a failure)."""
    server = ThrowawayPostgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mypages_database_url(mypages_db_kind, request, tmp_path_factory):
    if mypages_db_kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/mypages.sqlite"
    return request.getfixturevalue("postgres_server").create_database("mypages_test")


@pytest.fixture(scope="session")
def mypages_settings(mypages_database_url, tmp_path_factory) -> dict:
    """Settings of the app under test; copy and change them for a special app."""
    return testing_settings(mypages_database_url, str(tmp_path_factory.mktemp("blobs")))


def build_app(settings: dict, migrate: bool = True):
    app = main({}, **dict(settings))
    if migrate:
        upgrade_all(app.registry["db.engine"], migration_sources(app.registry))
    return app


class BuiltApps:
    """The applications of a run, one per set of settings (``mypages_apps``).

    An app is keyed by its settings, not by the fixture that asked for it: a ``conftest.py``
    that overrides ``mypages_settings`` gets an app of its own, even in a worker whose other
    tests, earlier, used the core's settings."""

    def __init__(self):
        self._apps: dict = {}

    def get(self, settings: dict, migrate: bool = True):
        key = tuple(sorted((name, repr(value)) for name, value in settings.items()))
        if key not in self._apps:
            self._apps[key] = build_app(settings, migrate=migrate)
        return self._apps[key]

    def dispose(self) -> None:
        for built in self._apps.values():
            built.registry["db.engine"].dispose()
        self._apps.clear()


@pytest.fixture(scope="session")
def mypages_apps():
    """The run's applications, built once per set of settings (:class:`BuiltApps`)."""
    apps = BuiltApps()
    yield apps
    apps.dispose()


@pytest.fixture
def mypages_app(mypages_settings, mypages_apps):
    """The application on a migrated database, built once per database and settings."""
    return mypages_apps.get(mypages_settings)


#: the tables found in each test database, so that emptying them asks only when one is missing
_tables_present: dict = {}


def _empty_all_tables(engine) -> None:
    """Children first. The app commits (pyramid_tm) on connections of its own, often from
    several threads, so a test cannot be rolled back; emptying the few rows a test wrote
    costs a few milliseconds (on PostgreSQL the DELETEs go in one round trip: a TRUNCATE of
    every table took seven times as long)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    present = _tables_present.get(engine, set())
    if not present.issuperset(tables):
        # a plugin's tests may run an app of fewer plugins than the models imported; look
        # again only then, as a later app may have migrated more
        with engine.connect() as conn:
            present = _tables_present[engine] = set(sa_inspect(conn).get_table_names())
        tables = [table for table in tables if table in present]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{table}"' for table in tables))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


def _empty_blob_store(app) -> None:
    """What the test stored: every scope of the blob store (mypages.storage)."""
    store = root_store(app)
    for scope in ("companies/", "platform/", "health/"):
        store.delete_prefix(scope)


@pytest.fixture
def app(mypages_app):
    """The application; every table and the blob store are emptied after the test, and what
    the app keeps of them in memory forgotten."""
    yield mypages_app
    _empty_all_tables(mypages_app.registry["db.engine"])
    _empty_blob_store(mypages_app)
    mypages_app.registry["policy.platform"].forget()


@pytest.fixture
def testapp(app):
    from webtest import TestApp  # the test extra's

    return TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})


@pytest.fixture
def dbsession(app):
    """A plain session on the test database; call ``commit()`` before requests see its rows."""
    session = sessionmaker(bind=app.registry["db.engine"], expire_on_commit=False)()
    yield session
    session.close()


class Factory:
    """Creates committed rows: ``factory.company()``, ``factory.user(company=c, role="admin")``,
    ``factory.membership(user, company)``, ``factory.policy(company, require_mfa=True)``."""

    password = DEFAULT_PASSWORD

    def __init__(self, session):
        self.session = session

    def company(self, name=None, **kw):
        company = make_company(self.session, name, **kw)
        self.session.commit()
        return company

    def user(self, email=None, **kw):
        user = make_user(self.session, email, **kw)
        self.session.commit()
        return user

    def membership(self, user, company, role="member"):
        """``user`` joins ``company`` as ``role`` (``"member"`` or ``"admin"``)."""
        membership = make_membership(self.session, user, company, role)
        self.session.commit()
        return membership

    def policy(self, company, **values):
        """The company's sign-in policy with ``values`` (``require_mfa``, ``password_allowed``,
        ``idle_minutes``...) changed, as it is, without the Security page's checks (a policy
        that requires Single Sign On without a break-glass admin, say)."""
        policy = make_policy(self.session, company, **values)
        self.session.commit()
        return policy

    def api_token(self, company, scopes, **kw) -> str:
        """An API token of ``company`` with ``scopes``; returns what to send as
        ``Authorization: Bearer ...`` (the row is ``factory.last_api_token``)."""
        self.last_api_token, token = make_api_token(self.session, company, scopes, **kw)
        self.session.commit()
        return token


@pytest.fixture
def factory(dbsession):
    return Factory(dbsession)


@pytest.fixture
def clock(request):
    """The wall clock of the test and of the app it calls, under the test's control
    (:class:`mypages.testing.clock.TestClock`): it ticks on as usual until the test moves it
    (``clock.shift(seconds, days=...)``, ``clock.move_to(when)``) or stops it
    (``clock.freeze(when=None)``), instead of sleeping until a time comes. ``utcnow``, the
    Clock service, the jobs' schedule and the portal's today (``clock.today()``) all follow
    it; ``time.monotonic`` is left alone, so timeouts still measure real time."""
    import time_machine  # the test extra's; only tests that move the clock need it

    def time_zone():
        if "app" in request.fixturenames:
            return settings_of(request.getfixturevalue("app")).time_zone
        return Settings.time_zone

    with time_machine.travel(time.time(), tick=True) as traveller:
        yield TestClock(traveller, time_zone)


@pytest.fixture
def modules(app):
    """``modules.activate(company, key)``, ``.buy``, ``.expire``, ``.deactivate`` and
    ``.state``: a module's lifecycle for a company without HTTP, through the core's own
    functions, audited and announced to the plugins (see
    :class:`mypages.testing.lifecycle.ModuleSwitch`). ``modules.on(other_app)`` is the same
    for an application of other settings (your plugin's, built with ``build_app``) on the
    test's database."""
    return ModuleSwitch(app)


@pytest.fixture
def run_jobs(app):
    """``run_jobs(queues=None, raise_on_failure=True)`` runs the jobs that are due by the
    app's clock (periodic, then queued) with the app's own worker on the test's database,
    and returns what ran (``.periodic``, ``.queued``: job names; ``.failed``); a job that
    failed raises :class:`mypages.testing.jobs.JobsFailed` with its error.
    ``run_jobs.on(other_app)`` runs another application's jobs the same way."""
    return JobRunner(app)


@pytest.fixture
def mypages_cli(app):
    """``mypages_cli("modules", "list")``: the operator CLI run in this process on the app
    under test (``.json(...)`` parses ``--json`` output; ``.on(other_app)`` runs it on
    another application); see mypages.testing.cli."""
    return OperatorCli(app=app)


def audit_events(dbsession, action: str | None = None) -> list[AuditEventInfo]:
    """The events of the audit trail in the order they were written (``action``'s only, if
    given), as the records a plugin's audit rules see: what a test checks was recorded."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return [AuditEventInfo.of(event) for event in dbsession.scalars(query)]


def audit_actions(dbsession) -> list[str]:
    """The actions of the audit trail's events, in the order they were written."""
    return [event.action for event in audit_events(dbsession)]


@dataclass(frozen=True)
class SessionRecord:
    """A browser session as the database holds it (:func:`sessions_of`)."""

    user_id: int
    #: the methods that proved the person, in the order proved, each with when (ISO text)
    amr: dict
    created_at: object
    #: None while the session is open
    ended_at: object


def sessions_of(dbsession, user=None, open_only: bool = False) -> list[SessionRecord]:
    """The browser sessions of ``user`` (a row, a :class:`~mypages.contract.UserInfo` or an
    id; None: everyone's), oldest first, the ended ones too unless ``open_only``: what a test
    of a sign-in method checks its sign-in made."""
    query = select(UserSession.user_id, UserSession.amr, UserSession.created_at,
                   UserSession.ended_at).order_by(UserSession.created_at, UserSession.id)
    if user is not None:
        query = query.where(UserSession.user_id == getattr(user, "id", user))
    if open_only:
        query = query.where(UserSession.ended_at.is_(None))
    return [SessionRecord(row.user_id, dict(row.amr or {}), row.created_at, row.ended_at)
            for row in dbsession.execute(query)]


@contextmanager
def work_as(app, user=None, company=None):
    """A :class:`~mypages.work.Work` of ``user`` (the platform itself when ``None``) in a
    transaction of its own that is committed when the block ends; yields ``(work, company)``
    with ``company`` as a :class:`~mypages.contract.CompanyInfo`: for tests that call the
    core's domain functions directly (from several threads, say) rather than through pages."""
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = session_in_transaction(app.registry["db.session_factory"], tm)
        actor = Actor(UserInfo.of(dbsession.merge(user)) if user is not None else None)
        yield (Work(dbsession, app.registry, actor),
               CompanyInfo.of(dbsession.merge(company)) if company is not None else None)


@pytest.fixture
def change_settings(app, monkeypatch):
    """``change_settings(base_url=...)``: the app's typed settings
    (:class:`mypages.settings.Settings`) with these fields changed, until the test ends."""
    def change(**fields):
        changed = dataclasses.replace(settings_of(app), **fields)
        monkeypatch.setitem(app.registry, SETTINGS_KEY, changed)
        return changed

    return change


@pytest.fixture
def replace_service(app):
    """``replace_service(Key, service)``: the app's service under ``Key`` is ``service``
    until the test ends (see :mod:`mypages.testing.services`)."""
    replaced = []

    def replace(key, service, target=None):
        target = target or app
        replaced.append((target, key, find(target, key)))
        register_service(target, key, service)
        return service

    yield replace
    for target, key, previous in reversed(replaced):
        register_service(target, key, previous)



@pytest.fixture
def signed_in(testapp):
    """``signed_in(user)`` signs ``user`` in on ``testapp`` and returns the app."""
    def sign(user, password: str = DEFAULT_PASSWORD):
        sign_in(testapp, user.email, password)
        return testapp
    return sign


@dataclass
class HostileWorld:
    """What the hostile-input sweep visits: a company with every module active, its admin and
    member, and a platform operator who is in no company."""

    company: object
    admin: object
    member: object
    operator: object


@pytest.fixture
def hostile_world(app, factory, dbsession) -> HostileWorld:
    """A company with every module active, its admin and member, and an operator; add rows of
    your own (``hostile_world.company``...) before calling ``hostile_sweep``."""
    company = factory.company()
    world = HostileWorld(company, factory.user(company=company, role="admin"),
                         factory.user(company=company), factory.user(is_operator=True))
    for key in app.registry["modules.catalogue"].modules:
        dbsession.add(ModuleActivation(company_id=company.id, module_key=key,
                                       state=ModuleState.active))
    dbsession.commit()
    return world


@pytest.fixture
def hostile_sweep(app, hostile_world):
    """``hostile_sweep(packages=None, placeholders=None, good=None, skip=(), app=None)`` sends
    hostile input to every route (or only to those whose views are in ``packages``, such as
    your plugin's) as an anonymous visitor, the member, the admin and the operator of
    ``hostile_world``, and returns a :class:`mypages.testing.hostile.Report`:
    ``assert report.failures == []``.

    ``placeholders`` gives good values for the placeholders of your route patterns
    (``company_id`` and ``user_id``, the member's id, are given; ``"route.name"`` keys are for
    one route only); ``good`` gives good values of form fields by name; ``app`` is another
    build of the application on the same database (``dns_app``, say).
    """
    from webtest import TestApp  # the test extra's

    from mypages.testing.hostile import Visitor, routes_of, sweep  # webtest

    def run(packages=None, placeholders=None, good=None, skip=(), app=app):
        world = hostile_world

        def browser(number):
            return TestApp(app, extra_environ={"REMOTE_ADDR": f"192.0.2.{number}",
                                               "HTTP_HOST": "localhost"})

        visitors = [Visitor("anonymous", browser(1),
                            good={"email": world.member.email, "password": DEFAULT_PASSWORD})]
        for number, (name, user) in enumerate((("member", world.member), ("admin", world.admin),
                                               ("operator", world.operator)), start=2):
            visitors.append(Visitor(name, browser(number), sign_in=lambda testapp, email=user.email:
                                    sign_in(testapp, email)))
        given = {"company_id": world.company.id, "user_id": world.member.id,
                 **(placeholders or {})}
        return sweep(app, visitors, given, good, routes_of(app, packages), skip)

    return run


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback for the whole run, with made-up credentials in the
    environment (:class:`mypages.testing.s3.FakeS3`: ``create_bucket(name)``,
    ``settings(bucket)`` for an app that keeps its blobs there)."""
    from mypages.testing.s3 import FakeS3, fake_credentials  # moto, the test extra's

    with fake_credentials():
        server = FakeS3().start()
        yield server
        server.stop()


@pytest.fixture(scope="session")
def mypages_smtp_server():
    """The SMTP server of the whole run (``smtp_server`` hands it to a test, emptied)."""
    from mypages.testing.smtp import SmtpServer  # aiosmtpd, the test extra's

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(mypages_smtp_server):
    """A real SMTP server on loopback; ``smtp_server.messages`` holds what it received during
    the test (one server serves the whole run, emptied before each test)."""
    mypages_smtp_server.clear()
    return mypages_smtp_server


@pytest.fixture
def mypages_mail_app(mypages_app, mypages_apps, mypages_settings, mypages_smtp_server):
    """The app sending mail to the run's SMTP server, built once per database and settings
    (after ``mypages_app``, which migrates it)."""
    return mypages_apps.get(dict(mypages_settings, **mypages_smtp_server.settings),
                            migrate=False)


@pytest.fixture
def mail_app(app, mypages_mail_app, smtp_server):
    """The application sending its e-mail to ``smtp_server``; same database as ``app``
    (emptied after the test), built once per database for the whole run.

    Mail goes out from queued jobs: ``Worker(mail_app.registry).run_queued()``.
    """
    return mypages_mail_app


@pytest.fixture
def mail_testapp(mail_app):
    from webtest import TestApp  # the test extra's

    return TestApp(mail_app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})


@pytest.fixture(scope="session")
def mypages_dns_server():
    """The DNS server of the whole run (``dns_server`` hands it to a test, emptied)."""
    from mypages.testing.dns import DnsServer  # dnslib, the test extra's

    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture
def dns_server(mypages_dns_server):
    """A real DNS server on loopback (UDP and TCP); ``dns_server.add_txt(name, value)``.

    One server serves the whole run: each test gets it running, with no records and no
    questions asked yet, even after a test that stopped it or made it fail."""
    if not mypages_dns_server.running:
        mypages_dns_server.start()  # on its port again: the apps' settings point there
    mypages_dns_server.clear()
    return mypages_dns_server


@pytest.fixture
def mypages_dns_app(mypages_app, mypages_apps, mypages_settings, mypages_dns_server):
    """The app resolving DNS through the run's DNS server, built once per database and
    settings (after ``mypages_app``, which migrates it)."""
    return mypages_apps.get(dict(mypages_settings, **mypages_dns_server.settings),
                            migrate=False)


@pytest.fixture
def dns_app(app, mypages_dns_app, dns_server):
    """The application resolving DNS through ``dns_server`` only; same database as ``app``
    (emptied after the test), built once per database for the whole run."""
    return mypages_dns_app


@pytest.fixture(scope="session")
def outbound_ca(tmp_path_factory):
    """A certificate authority of the tests' own, for https servers of ``*.outbound.test``."""
    from mypages.testing.outbound import CertificateAuthority  # trustme, the test extra's

    return CertificateAuthority(tmp_path_factory.mktemp("outbound-ca"))


@pytest.fixture(scope="session")
def strict_outbound_setup(outbound_ca):
    """The run-wide parts of ``strict_outbound``: its DNS server and the https server."""
    from mypages.testing.dns import DnsServer  # dnslib, the test extra's
    from mypages.testing.outbound import Routes, StrictOutbound, public_and_trap  # trustme

    dns = DnsServer().start()
    routes = Routes()
    server, trap = public_and_trap(routes, outbound_ca.server_context())
    yield StrictOutbound(app=None, routes=routes, server=server, trap=trap, dns=dns)
    server.stop()
    trap.stop()
    dns.stop()


@pytest.fixture
def strict_outbound(app, mypages_apps, mypages_settings, strict_outbound_setup, outbound_ca):
    """The application under production's outbound policy (https only, no internal
    address), same database as ``app``; see :mod:`mypages.testing.outbound`. Names under
    ``outbound.test`` resolve as the test says: ``strict_outbound.dns.set_addresses(...)``."""
    from mypages.testing.outbound import strict_settings  # trustme, the test extra's

    built = mypages_apps.get(
        dict(mypages_settings, **strict_settings(outbound_ca, strict_outbound_setup.dns.settings)),
        migrate=False)
    strict_outbound_setup.reset()
    yield dataclasses.replace(strict_outbound_setup, app=built)
    strict_outbound_setup.reset()


@pytest.fixture
def certificate_authority():
    """A throwaway certificate authority (a ``trustme.CA``) for the test: ``issue_cert(*names)``
    makes a certificate, ``cert_pem.write_to_path(file)`` writes what to trust it by."""
    import trustme  # the test extra's

    return trustme.CA()


@pytest.fixture
def mtls_server(certificate_authority, tmp_path):
    """``mtls_server(wsgi_app, client_ca=None, server_ca=None)`` serves ``wsgi_app`` over
    https on 127.0.0.1, accepting only clients with a certificate of ``client_ca``
    (``certificate_authority`` unless given), until the test ends; returns a
    :class:`mypages.testing.mtls.MtlsServer`: ``url``, ``ca_file`` (trust the server by it),
    ``client`` (``.cert``, ``.key``, ``.pair``: a client certificate it accepts),
    ``issue_client(name)`` and ``client_context()``."""
    from mypages.testing.mtls import MtlsServer  # trustme, the test extra's

    started = []

    def start(wsgi_app, client_ca=None, server_ca=None):
        folder = tmp_path / f"mtls-{len(started)}"
        folder.mkdir()
        server = MtlsServer(wsgi_app, folder, client_ca or certificate_authority,
                            server_ca).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run (Playwright's ``Browser``; the system's Chromium,
    which ``make system-packages`` installs): each test makes a context of its own
    (``browser.new_context()``), a fresh browser with no cookies."""
    from playwright.sync_api import sync_playwright  # the test extra's

    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is not installed (make system-packages installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory):
    """The portal as production runs it (no development features), with every installed
    plugin, under pserve on 127.0.0.1, on a SQLite database of its own, for the whole run:
    ``url``, ``seeded`` (a company with every module active: ``company_id``,
    ``admin_email``, ``member_email``, ``password``) and ``database_url`` (for rows of your
    own); see :mod:`mypages.testing.chromium`."""
    with serve_portal(tmp_path_factory.mktemp("live-portal"),
                      seed=lambda url, ini: seed_company(url, ini, modules="*")) as server:
        yield server


@pytest.fixture
def browser_page(browser, live_portal):
    """A page of a fresh headless Chromium on ``live_portal`` (in English; its relative
    addresses are the portal's): ``browser_page.goto("/login")``."""
    with contexts(browser, live_portal) as make:
        yield make(locale="en-GB").new_page()


# identity providers over real HTTP (fixtures defined there, registered here)
from mypages.testing.sso import azure_idp, example_company, fake_oidc, google_idp  # noqa: E402,F401
