"""The plugin contract: every hook a plugin may implement.

A plugin is a module named by an entry point in the ``mypages.plugins``
group. It declares the hookspec version it was written for::

    mypages_hookspec = "2.0"

and implements hooks with ``@hookimpl`` (from ``mypages.toolkit``). The core
refuses to start with a plugin whose major version differs from
:data:`HOOKSPEC_VERSION` or whose minor version is newer.

Hooks are called in one of two ways:

* **platform hooks** (``mypages_modules``, ``mypages_jobs``,
  ``mypages_migrations``, ``mypages_login_methods``, ``mypages_sso_providers``,
  ``mypages_api``, ``mypages_notification_kinds``, ``mypages_whats_new``,
  ``mypages_audit_rules``, ``mypages_signers``) are called for every
  enabled plugin, once at start-up, ``mypages_purchase`` for every
  enabled plugin when a module is bought, ``mypages_health_checks`` on
  every readiness check, ``mypages_company_export`` and
  ``mypages_company_erase`` for every enabled plugin, whatever the company's
  modules, when a company's data is exported or erased, and
  ``mypages_user_export`` when a person downloads their own data;
* **development hooks** (``mypages_dev_apps``, ``mypages_demo``,
  ``mypages_demo_sign_ins``) are called
  only while ``mypages.dev_features`` is on, which production refuses;
* **company hooks** (``mypages_company_settings_tabs``,
  ``mypages_dashboard_cards``, ``mypages_navigation``) are called through
  ``request.company_hooks``, which includes only the plugins whose module the
  company is entitled to (trial or active), plus plugins that offer no module
  at all. Each implementation is called on its own: one that raises loses
  only its own tabs, cards or links for that request, is logged with the
  plugin's name and audited as ``plugin.hook_failed``, and the page is shown
  with everything else (the Modules page too, so the company can still
  deactivate the module).

Event hooks (names ending in a past participle, such as
``mypages_module_state_changed``) are delivered to each implementation on
its own: one that raises is logged and audited, and the others still run.

A hook gets the same types wherever it is called from, a person's request
or a job: a ``company`` is a :class:`mypages.toolkit.CompanyInfo` and a
``user`` a :class:`mypages.toolkit.UserInfo`, read-only records, never
database rows. A ``request`` argument is never ``None``: hooks that may be
called from a job get an :class:`mypages.toolkit.EventContext` instead.

New arguments are only ever added to a hookspec within a major version; an
implementation may accept fewer arguments than the spec offers (pluggy
passes only the names it asks for), so plugins written for 2.0 keep working
with every 2.x. What is to go at the next major version is marked with
pluggy's ``warn_on_impl``: registering an implementation that uses it
issues a :class:`MypagesDeprecationWarning`.
"""
from __future__ import annotations

import pluggy

#: (major, minor) of this contract. Bump minor for additions, major for breaks; every change
#: gets a section in docs/plugins/changelog.rst (tests/core/plugins/test_contract_snapshot.py).
HOOKSPEC_VERSION = (2, 4)

hookspec = pluggy.HookspecMarker("mypages")
hookimpl = pluggy.HookimplMarker("mypages")


class MypagesDeprecationWarning(DeprecationWarning):
    """A plugin implements a hook, or takes an argument, that goes at the next major
    version of the contract. The core logs it at start-up with the plugin's name."""


# -- platform hooks ---------------------------------------------------------

@hookspec
def mypages_modules():
    """Return the modules this plugin offers, a list of :class:`mypages.toolkit.Module`.

    Called once at start-up. A module key is unique across all plugins;
    two plugins offering the same key stop start-up.
    """


@hookspec
def mypages_jobs():
    """Return jobs to register, a list of :class:`mypages.toolkit.PeriodicJob` or
    :class:`mypages.toolkit.QueuedJobType`.

    Periodic jobs run every ``every``, or daily ``at`` a time of day in the
    portal's time zone, on exactly one worker at a time (a database lease).
    Queued jobs are enqueued with ``request.enqueue(name, payload)`` (or a
    job's ``context.enqueue``, optionally with a ``dedupe_key``) and run once
    each; a job's work is committed with the mark that it is done. A job
    runs on the workers of its ``queue``.
    """


@hookspec
def mypages_migrations():
    """Return a :class:`mypages.toolkit.MigrationSource` for this plugin's tables.

    Each distribution keeps its own Alembic history in its own version
    table; ``mypages db upgrade`` upgrades the core first, then each plugin.
    """


@hookspec
def mypages_login_methods():
    """Return the sign-in methods this plugin adds, a list of
    :class:`mypages.toolkit.LoginMethod` (since hookspec 1.1).

    A method's key is what a session records when the method proved the user
    (``amr``), for example ``bankid`` or ``sso:azure``; the policy engine
    uses ``is_mfa``, ``modules`` and ``is_local`` to judge a session against a
    company's policy. The core offers ``pwd``, ``otp`` and ``recovery``,
    described in the same way.

    Since hookspec 2.3 a method also names its own pages (``sign_in_route``,
    ``step_up_route``, ``enrol_route``, ``unlink_route``) and says who has it
    set up (``is_set_up``); the core's sign-in, second-step, set-up,
    re-authentication and account pages and the People tab offer it
    alongside the authenticator app. Its views finish with
    :func:`mypages.toolkit.sign_in` or :func:`mypages.toolkit.step_up`.
    """


@hookspec
def mypages_sso_providers():
    """Return the identity providers this plugin adds to the "Single Sign On" module, a
    list of :class:`mypages.toolkit.SsoProvider` instances (since hookspec 1.2).

    A provider's key must be unique across plugins; each provider becomes a
    sign-in method ``sso:<key>`` that satisfies "require two-factor
    authentication".
    """


@hookspec
def mypages_api(api):
    """Add this plugin's operations to the REST API (since hookspec 2.3).

    Called once at start-up, after every module is known. ``api`` is a
    :class:`mypages.toolkit.ApiBuilder`: add the scopes tokens may be given
    (``api.add_scope("notes:read", _("Read notes"))``), the schemas of what the
    operations take and answer (``api.add_schema``), and the operations
    themselves (``api.add_operation``, ``api.add_list`` for lists paged with
    cursors and answered as JSON or CSV), each with the scope it needs and the
    module it belongs to. They go into the one OpenAPI document at
    ``/api/v1/openapi.json``; every request is checked against it before the
    operation's view sees it, and every answer after. A token of a company not
    entitled to the operation's module gets a problem (403), so an operation
    stops working when the company's trial ends.

    :param api: the :class:`mypages.toolkit.ApiBuilder` every plugin adds to.
    """


@hookspec
def mypages_notification_kinds():
    """Return the kinds of notification this plugin posts, a list of
    :class:`mypages.toolkit.NotificationKind` (since hookspec 2.3).

    Called once at start-up. :func:`mypages.toolkit.notify` refuses a kind
    nobody declares; each person's account page lists every kind with its
    title, to choose whether it also comes by e-mail (``email`` is the choice
    of whoever has not made one). A key is unique across the core and all
    plugins; two plugins declaring one stop start-up.
    """


@hookspec
def mypages_whats_new():
    """Return this plugin's "What's new" entries, a list of
    :class:`mypages.toolkit.WhatsNew` (since hookspec 2.3).

    Called once at start-up. Each entry reaches each person once, as a
    notification of the kind ``whats_new``, when they sign in on or after
    its ``date``, if their account was made on or before that day (newcomers
    are not told what was new before they came). Keep the entries of past
    releases: an id already delivered is never delivered again, and removing
    an entry only stops it reaching those who have not had it. Ids are
    unique across the core and all plugins.
    """


@hookspec
def mypages_audit_rules():
    """Return rules that watch the audit trail for suspicious or disallowed behaviour, a
    list of :class:`mypages.toolkit.AuditRule` (since hookspec 2.4).

    Called once at start-up. A job reads each trail's new events shortly after they are
    committed (every 30 seconds) and shows each event, once, to the rules that name its
    action, in the order of its trail: ``rule.judge(context, event)`` gets an
    :class:`mypages.toolkit.AuditRuleContext` (``count`` the events like it in a time
    window) and an :class:`mypages.toolkit.AuditEventInfo`, and returns an
    :class:`mypages.toolkit.AuditAlert` or ``None``. Judge from the event and a query or
    two: the job runs for every event of every company. Never write: the watch rolls back
    what a rule wrote, and a rule that raises is logged with the plugin's name and skipped
    for that event.

    An alert is kept once per rule and event (and, with ``quiet_for``, once per subject
    and time window), listed for operators under Operator > Security alerts, and posted to
    the company's admins (the operators', for the platform's own trail) as a notification
    of the kind ``security_alert``, which each person may also have by e-mail. Keys are
    unique across the core and all plugins; two plugins declaring one stop start-up.
    """


# -- development hooks (mypages.dev_features only; never called in production) --

@hookspec
def mypages_dev_apps():
    """Return the offline stand-ins this plugin serves, a list of
    :class:`mypages.toolkit.DevApp` (since hookspec 2.3).

    Called once at start-up, and only while development features are on
    (``mypages.dev_features``, which production refuses): each stand-in is
    mounted at ``/_dev/<name>/`` and listed on the ``/_dev/`` index, so the
    product can be clicked through without a network. Two stand-ins with the
    same name stop start-up.
    """


@hookspec
def mypages_demo(context):
    """Seed this plugin's demo data; return the lines to print, a list of strings
    (since hookspec 2.3).

    Called by ``mypages demo`` (development features only), for every plugin
    in one transaction. Seed idempotently: a second run finds what the first
    made and changes nothing. An implementation that builds on another
    plugin's demo data runs after it with ``@hookimpl(trylast=True)``.

    :param context: a :class:`mypages.toolkit.DemoContext`: the transaction,
        and find-or-create helpers for companies, people and verified domains.
    """


@hookspec
def mypages_demo_sign_ins():
    """Return the demo people one may sign in as, for the sign-in page of a development
    portal: a list of ``(who, email, password)`` tuples, ``who`` a translation string
    such as "Admin of Demo AB" (since hookspec 2.4).

    Called only while development features are on (``mypages.dev_features``, which
    production refuses). The page lists only the accounts that exist and are active, so a
    person removed since ``mypages demo`` ran is not offered.
    """


# -- company hooks (through request.company_hooks) ---------------------------

@hookspec
def mypages_company_settings_tabs(request, company):
    """Return tabs for the company settings page, a list of
    :class:`mypages.toolkit.SettingsTab`.

    Only plugins whose module the company is entitled to are asked, so a tab
    disappears when the trial ends or the module is deactivated.

    :param request: the request showing the settings page (never ``None``).
    :param company: the company, a :class:`mypages.toolkit.CompanyInfo`
        (the same as ``request.company``).
    """


@hookspec
def mypages_dashboard_cards(request, company):
    """Return cards for the company dashboard, a list of
    :class:`mypages.toolkit.DashboardCard`. Asked per company like the tabs.

    :param request: the request showing the dashboard (never ``None``).
    :param company: the company, a :class:`mypages.toolkit.CompanyInfo`
        (the same as ``request.company``).
    """


@hookspec
def mypages_navigation(request, company):
    """Return links for the top bar of the company's pages, a list of
    :class:`mypages.toolkit.NavigationItem` (since hookspec 2.3). Asked per
    company like the tabs, on every page of the company, for its members and
    admins alike: a link to a page only admins may see is offered only when
    ``request.has_permission("company.admin")``.

    The top bar shows them after "Dashboard", by ``order`` and then title,
    and marks the one of the page shown with ``aria-current="page"``. Keep
    the work small (no query, if it can be helped): it is done for every page.

    :param request: the request showing the page (never ``None``).
    :param company: the company, a :class:`mypages.toolkit.CompanyInfo`
        (the same as ``request.company``).
    """


@hookspec
def mypages_signers():
    """Return the ways of signing this plugin offers, a list of
    :class:`mypages.toolkit.Signer` (BankID's "Banksignering", say). Called once, at start-up.

    The portal asks a person to sign with :func:`mypages.toolkit.request_signature` and reads
    the result with :func:`mypages.toolkit.find_signature`; a signer is offered to the
    companies entitled to its ``modules``. Since hookspec 2.4.
    """


@hookspec(firstresult=True)
def mypages_purchase(request, company, module, user):
    """Bill ``company`` for ``module``, bought by ``user``.

    The first implementation that returns a non-``None`` value wins. The
    core's default records an order that operators see under Operator >
    Orders, and returns it. Raise :class:`mypages.toolkit.PurchaseRefused`
    with a translatable message to refuse; nothing is then changed.

    :param request: the request of the company admin buying (never ``None``);
        write with ``request.dbsession``, in the purchase's transaction.
    :param company: the buying company, a :class:`mypages.toolkit.CompanyInfo`.
    :param module: the :class:`mypages.toolkit.Module` bought.
    :param user: the company admin buying, a :class:`mypages.toolkit.UserInfo`.
    """


@hookspec
def mypages_health_checks(registry, now, dbsession):
    """Return findings about what this plugin depends on, a list of
    :class:`mypages.toolkit.HealthCheck`, for ``/readyz`` and ``mypages health``.

    Called on every readiness check (a load balancer asks every few seconds): look at what
    is at hand (a certificate's expiry date, the age of the last successful fetch) rather
    than calling other services each time. A check that raises is shown as ``down`` under
    the plugin's name, and the others still run. Details never hold secrets. Since hookspec
    2.3.

    :param registry: the application's registry, to find services with
        (:func:`mypages.toolkit.clock`, :func:`mypages.toolkit.blob_store`).
    :param now: the time of the check, an aware UTC datetime.
    :param dbsession: a SQLAlchemy session of this check's own, to read with (one indexed
        query, not a scan: this runs every few seconds); whatever it holds is rolled back
        afterwards. Since hookspec 2.4.
    """


@hookspec
def mypages_company_export(context, company, archive):
    """Add everything this plugin keeps about ``company`` to its data export (since
    hookspec 2.4).

    Called by the job that builds the archive a company admin or an operator asked for,
    for every enabled plugin whether or not the company still has its module (data kept
    through a trial's end is the company's too). Read with ``context.dbsession`` (one
    consistent snapshot for the whole archive); write nothing. Add rows per kind with
    ``archive.add_rows("documents", rows)`` (a list of dicts of plain values: each kind
    becomes ``<plugin>/<kind>.json`` and ``<plugin>/<kind>.csv``) and files with
    ``archive.add_file(name, data)``. Never add secrets (keys, tokens, password hashes):
    say that one is set instead. The blobs of the company's blob store are added by the
    core, under ``blobs/``. An implementation that raises fails the export, which names
    the plugin.

    :param context: an :class:`mypages.toolkit.EventContext`: ``dbsession`` to read with,
        ``company``, ``user`` (who asked; ``None`` for an operator at the command line).
    :param company: the company, a :class:`mypages.toolkit.CompanyInfo`.
    :param archive: the :class:`mypages.toolkit.ExportArchive` being written, scoped to
        this plugin's folder.
    """


@hookspec
def mypages_user_export(context, user, archive):
    """Add what this plugin keeps about ``user`` to the archive of their own data, which
    they download from their account (since hookspec 2.4).

    Called at once, in the request, for every enabled plugin: read with
    ``context.dbsession`` and add rows as for :func:`mypages_company_export`, in this
    plugin's folder of the archive; keep it small and quick. Their personal data only,
    not their companies' (a company's notes are the company's). Never add secrets.

    :param context: an :class:`mypages.toolkit.EventContext`; ``user`` and ``company``
        (``None``) as the event is about the person.
    :param user: the person, a :class:`mypages.toolkit.UserInfo`.
    :param archive: the :class:`mypages.toolkit.ExportArchive` being written, scoped to
        this plugin's folder.
    """


@hookspec
def mypages_company_erase(context, company, users):
    """Delete everything this plugin keeps about ``company`` (since hookspec 2.4).

    Called when an operator erases the company permanently, for every enabled plugin
    whether or not the company still has its module, in the erasure's one transaction
    (``context.dbsession``): delete the rows, and what they say of ``users``; if anything
    raises, nothing at all is erased. The company's blob store (``companies/<id>/``) is
    emptied by the core afterwards; the core then deletes the company and the people of
    ``users``, and with them every row that refers to them with ``ON DELETE CASCADE``.

    Return, if you like, strings this plugin wrote where the core keeps free text (audit
    details, job payloads), such as names it recorded: the core removes them there too. It
    already removes the company's name and number and the e-mail addresses and names of
    ``users``.

    :param context: an :class:`mypages.toolkit.EventContext` in the erasure's transaction;
        its ``user`` is the operator (``None`` at the command line).
    :param company: the company, a :class:`mypages.toolkit.CompanyInfo`.
    :param users: the people erased with it (members of no other company), a list of
        :class:`mypages.toolkit.UserInfo`.
    """


# -- events -----------------------------------------------------------------

@hookspec(warn_on_impl_args={"actor": MypagesDeprecationWarning(
    "mypages_module_state_changed: the argument 'actor' is deprecated since hookspec 2.0 "
    "and goes in 3.0; take 'user', the same person")})
def mypages_module_state_changed(context, company, module_key, old_state, new_state, user,
                                 actor):
    """A company's module moved from ``old_state`` to ``new_state``.

    Called inside the transaction of the change, whether a company admin made
    it (activate, buy, deactivate) or a job (a trial ended).

    :param context: an :class:`mypages.toolkit.EventContext`, in requests and
        jobs alike: its ``dbsession`` is in the change's transaction, its
        ``audit`` and ``enqueue`` record an event or queue a job with it.
    :param company: the company, a :class:`mypages.toolkit.CompanyInfo`.
    :param module_key: the module's key.
    :param old_state: a :class:`mypages.toolkit.ModuleState`; ``available``
        stands for "never activated".
    :param new_state: a :class:`mypages.toolkit.ModuleState`.
    :param user: the company admin who made the change, a
        :class:`mypages.toolkit.UserInfo`, or ``None`` when a job made it
        (since hookspec 2.0).
    :param actor: deprecated since hookspec 2.0, goes in 3.0: the same as ``user``.
    """


@hookspec
def mypages_user_signed_in(request, user):
    """``user`` has just signed in with ``request``.

    :param request: the request that signed the user in (never ``None``).
    :param user: who signed in, a :class:`mypages.toolkit.UserInfo` (the
        same as ``request.user``).
    """
