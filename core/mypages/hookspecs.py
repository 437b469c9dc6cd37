"""The plugin contract: every hook a plugin may implement.

A plugin is a module named by an entry point in the ``mypages.plugins``
group. It declares the hookspec version it was written for::

    mypages_hookspec = "1.0"

and implements hooks with ``@hookimpl`` (from ``mypages.toolkit``). The core
refuses to start with a plugin whose major version differs from
:data:`HOOKSPEC_VERSION` or whose minor version is newer.

Hooks are called in one of two ways:

* **platform hooks** (``mypages_modules``, ``mypages_jobs``,
  ``mypages_migrations``, ``mypages_login_methods``, ``mypages_sso_providers``)
  are called for every
  enabled plugin, once at start-up, and ``mypages_purchase`` for every
  enabled plugin when a module is bought;
* **company hooks** (``mypages_company_settings_tabs``,
  ``mypages_dashboard_cards``) are called through ``request.company_hooks``,
  which includes only the plugins whose module the company is entitled to
  (trial or active), plus plugins that offer no module at all.

Event hooks (names ending in a past participle, such as
``mypages_module_state_changed``) are delivered to each implementation on
its own: one that raises is logged and audited, and the others still run.

On a request, a ``company`` argument is what ``request.company`` holds
(``id``, ``name``, ``org_number``, ``default_locale``) and a ``user`` or
``actor`` what ``request.user`` holds (``id``, ``email``, ``name``,
``locale``, ``is_operator``): read-only records, not database objects; a
hook that needs more reads it through ``request.dbsession``. Without a
request (a job ended a trial), ``company`` is the database row, in the job's
session.

New arguments are only ever added to a hookspec; an implementation may
accept fewer arguments than the spec offers (pluggy passes only the names it
asks for), so plugins written for 1.0 keep working with 1.x.
"""
from __future__ import annotations

import pluggy

#: (major, minor) of this contract. Bump minor for additions, major for breaks.
HOOKSPEC_VERSION = (1, 2)

hookspec = pluggy.HookspecMarker("mypages")
hookimpl = pluggy.HookimplMarker("mypages")


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

    Periodic jobs run every ``every`` on exactly one worker at a time (a
    database lease). Queued jobs are enqueued with ``request.enqueue(name,
    payload)`` and run once each.
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
    uses ``is_mfa`` and ``is_local`` to judge a session against a company's
    policy. The core offers ``pwd``, ``otp`` and ``recovery``.
    """


@hookspec
def mypages_sso_providers():
    """Return the identity providers this plugin adds to the "Single Sign On" module, a
    list of :class:`mypages.toolkit.SsoProvider` instances (since hookspec 1.2).

    A provider's key must be unique across plugins; each provider becomes a
    sign-in method ``sso:<key>`` that satisfies "require two-factor
    authentication".
    """


# -- company hooks (through request.company_hooks) ---------------------------

@hookspec
def mypages_company_settings_tabs(request, company):
    """Return tabs for the company settings page, a list of
    :class:`mypages.toolkit.SettingsTab`.

    Only plugins whose module the company is entitled to are asked, so a tab
    disappears when the trial ends or the module is deactivated.
    """


@hookspec
def mypages_dashboard_cards(request, company):
    """Return cards for the company dashboard, a list of
    :class:`mypages.toolkit.DashboardCard`. Asked per company like the tabs.
    """


@hookspec(firstresult=True)
def mypages_purchase(request, company, module, user):
    """Bill ``company`` for ``module``, bought by ``user``.

    The first implementation that returns a non-``None`` value wins. The
    core's default records an :class:`mypages.modules.models.Order` that
    operators see under Operator > Orders and returns it. Raise
    :class:`mypages.toolkit.PurchaseRefused` with a translatable message to
    refuse; nothing is then changed.
    """


# -- events -----------------------------------------------------------------

@hookspec
def mypages_module_state_changed(request, company, module_key, old_state, new_state, actor):
    """A company's module moved from ``old_state`` to ``new_state``
    (``ModuleState`` values; ``available`` stands for "never activated").

    ``actor`` is the user who caused it, or ``None`` for a job (trial
    expiry). Called inside the transaction of the change; ``request`` is
    ``None`` when a job made the change.
    """


@hookspec
def mypages_user_signed_in(request, user):
    """``user`` has just signed in with ``request``."""
