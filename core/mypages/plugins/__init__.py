"""Plugin discovery and the pluggy manager.

Plugins are found once at start-up through the ``mypages.plugins``
entry-point group, filtered by the operator's allow/deny list, checked
against :data:`mypages.hookspecs.HOOKSPEC_VERSION`, registered with pluggy
and, when they have an ``includeme``, included into the Pyramid
configuration after the core.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache, partial
from importlib.metadata import entry_points
from pathlib import Path

import pluggy
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from mypages import hookspecs
from mypages.db import fresh_transaction
from mypages.services import clock, registry_of, settings_of
from mypages.settings import UnsafeConfiguration

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mypages.plugins"


class PluginError(ConfigurationError):
    """A plugin cannot be loaded; start-up stops with the plugin's name, why, and how to start
    without it."""

    def __init__(self, name: str, why: str):
        super().__init__(f"Plugin {name!r} cannot be loaded: {why}. To start without it, add "
                         f"{name} to mypages.plugins.deny (and fix or uninstall it).")
        self.plugin_name = name
        self.why = why


#: a plugin's status in :func:`survey` and ``mypages plugins list``
OK, DENIED, REFUSED = "ok", "denied", "refused"


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module_name: str
    enabled: bool
    reason: str = ""  # why a plugin is not enabled
    module: object = None
    refused: bool = False  # installed and allowed, but it cannot be loaded (``reason`` says why)
    hooks: tuple[str, ...] = ()    # the hooks it implements (filled by :func:`survey`)
    modules: tuple[str, ...] = ()  # the keys of the modules it offers (filled by :func:`survey`)

    @property
    def status(self) -> str:
        return REFUSED if self.refused else OK if self.enabled else DENIED

    def refuse(self, why: str) -> None:
        self.enabled, self.refused, self.reason = False, True, why


def _allowed(name: str, allow: list[str], deny: list[str]) -> tuple[bool, str]:
    if name in deny:
        return False, "denied by mypages.plugins.deny"
    if "*" not in allow and name not in allow:
        return False, "not in mypages.plugins.allow"
    return True, ""


def check_compatibility(name: str, module) -> None:
    core_major, core_minor = hookspecs.HOOKSPEC_VERSION
    declared = getattr(module, "mypages_hookspec", None)
    if declared is None:
        raise PluginError(name, f"it does not declare mypages_hookspec "
                                f"(for example \"{core_major}.{core_minor}\")")
    try:
        major, minor = (int(part) for part in str(declared).split(".", 1))
    except ValueError:
        raise PluginError(name, f"mypages_hookspec {declared!r} is not of the form MAJOR.MINOR")
    provided = f"it was written for hookspec {declared}, this core provides {core_major}.{core_minor}"
    if major < core_major:
        raise PluginError(name, f"{provided}: the plugin must be moved to hookspec "
                                f"{core_major}.0 (the plugin-author guide's changelog of the "
                                f"contract says how), or run with an older mypages")
    if major > core_major or minor > core_minor:
        raise PluginError(name, f"{provided}: upgrade mypages, or use a release of the plugin "
                                f"written for hookspec {core_major}.0 to {core_major}.{core_minor}")


def _installed(allow: list[str], deny: list[str]):
    """(entry point, PluginInfo) of every installed plugin, by name; two distributions that
    claim one plugin name stop start-up naming both."""
    claimed: dict[str, str] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = ep.dist
        info = PluginInfo(
            name=ep.name,
            distribution=dist.name if dist else "",
            version=dist.version if dist else "",
            module_name=ep.value,
            enabled=False,
        )
        info.enabled, info.reason = _allowed(ep.name, allow, deny)
        if ep.name in claimed:
            both = " and ".join(repr(name) for name in sorted([claimed[ep.name],
                                                               info.distribution]))
            info.refuse(f"the plugin name is claimed by two distributions, {both}: uninstall "
                        f"one of them")
        claimed[ep.name] = info.distribution
        yield ep, info


def _load(ep):
    try:
        return ep.load()
    except Exception as exc:  # any error while importing names the plugin
        raise PluginError(ep.name, f"importing {ep.value} failed: {exc!r}") from exc


def discover(allow: list[str], deny: list[str]) -> list[PluginInfo]:
    """Find every installed plugin; import those allowed (import errors stop start-up)."""
    found = []
    for ep, info in _installed(allow, deny):
        if info.refused:
            raise PluginError(info.name, info.reason)
        if info.enabled:
            info.module = _load(ep)
            check_compatibility(ep.name, info.module)
        found.append(info)
    return found


def refuse_development_plugins(settings, found: list[PluginInfo]) -> None:
    """Production refuses an enabled plugin that declares ``mypages_development_only = True``
    (offline stand-ins, demo data with known passwords)."""
    if not settings.production:
        return
    problems = [f"plugin {info.name!r} ({info.distribution or info.module_name}) is for "
                f"development only: uninstall it, or add {info.name} to mypages.plugins.deny"
                for info in found
                if info.enabled and getattr(info.module, "mypages_development_only", False) is True]
    if problems:
        raise UnsafeConfiguration("Refusing to start in production:\n- " + "\n- ".join(problems))


def unknown_hooks(pm: pluggy.PluginManager, plugin) -> list[str]:
    """The hooks ``plugin`` (registered with ``pm``) implements that no hookspec declares, but
    those it marks ``optionalhook`` (a hook of a plugin that may not be installed)."""
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or []
                  if not caller.has_spec() and any(
                      not impl.optionalhook for impl in caller.get_hookimpls()
                      if impl.plugin is plugin))


def hook_problems(name: str, module) -> list[str]:
    """Why the plugin ``module`` does not fit the hookspecs (its declared version, unknown hooks,
    arguments a spec lacks), as start-up would refuse it; empty when it fits."""
    try:
        check_compatibility(name, module)
    except PluginError as exc:
        return [exc.why]
    pm = make_plugin_manager()
    try:
        with warnings.catch_warnings():  # deprecations are start-up's to log, not problems
            warnings.simplefilter("ignore", hookspecs.MypagesDeprecationWarning)
            pm.register(module, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        return [str(exc)]
    return [f"it implements {hook!r}, which no hookspec declares (a typo, or a hook of a "
            f"newer mypages)" for hook in unknown_hooks(pm, module)]


def survey(allow: list[str], deny: list[str]) -> list[PluginInfo]:
    """Every installed plugin as start-up would find it, without stopping at a broken one: a
    plugin that cannot be imported or does not fit the hookspecs is marked refused, with the
    reason. Fills in the hooks each loadable plugin implements and the modules it offers."""
    found = []
    for ep, info in _installed(allow, deny):
        found.append(info)
        if not info.enabled:
            continue
        try:
            info.module = _load(ep)
        except PluginError as exc:
            info.refuse(exc.why)
            continue
        problems = hook_problems(info.name, info.module)
        if problems:
            info.refuse("; ".join(problems))
            continue
        pm = make_plugin_manager()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hookspecs.MypagesDeprecationWarning)
            pm.register(info.module, name=info.name)
        info.hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(info.module)))
        try:
            info.modules = tuple(module.key for impl in pm.hook.mypages_modules.get_hookimpls()
                                 for module in impl.function() or [])
        except Exception as exc:
            info.refuse(f"mypages_modules failed: {exc!r}")
    return found


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("mypages")
    pm.add_hookspecs(hookspecs)
    return pm


#: the hooks asked per company, through ``request.company_hooks``: each returns a list
COMPANY_HOOKS = ("mypages_company_settings_tabs", "mypages_dashboard_cards",
                 "mypages_navigation")


class CompanyHookCallers:
    """Hook callers restricted to the plugins a set of entitled modules allows.

    One cached caller per (hook, set of excluded plugins), so a request pays a dictionary
    look-up, not a rebuild.
    """

    def __init__(self, pm: pluggy.PluginManager, module_owners: dict[str, str],
                 core: frozenset[str] = frozenset()):
        self.pm = pm
        self.module_owners = module_owners  # module key -> plugin name
        self.core = core  # the names the core's own domains registered hooks under
        self.audits = FailureAudits()
        self._plugins_with_modules = frozenset(module_owners.values())
        self._excluded = lru_cache(maxsize=4096)(self._excluded_uncached)
        self._caller = lru_cache(maxsize=4096)(self._caller_uncached)
        for name in COMPANY_HOOKS:
            for impl in getattr(pm.hook, name).get_hookimpls():
                if impl.hookwrapper or impl.wrapper:
                    raise PluginError(impl.plugin_name, f"{name} is called implementation by "
                                      "implementation, so it takes no wrappers")

    def _excluded_uncached(self, entitled: frozenset[str]) -> frozenset[str]:
        included = {self.module_owners[key] for key in entitled if key in self.module_owners}
        return self._plugins_with_modules - included

    def _caller_uncached(self, name: str, excluded: frozenset[str]):
        plugins = [self.pm.get_plugin(p) for p in excluded if self.pm.get_plugin(p) is not None]
        caller = getattr(self.pm.hook, name)
        if plugins:
            caller = self.pm.subset_hook_caller(name, remove_plugins=plugins)
        if caller.spec is not None and caller.spec.opts.get("firstresult"):
            return caller
        return CompanyHook(caller, self.core, self.audits)

    def for_modules(self, entitled: frozenset[str]) -> "HookRelay":
        return HookRelay(self, self._excluded(frozenset(entitled)))


class HookRelay:
    """``relay.mypages_x(...)`` like ``pm.hook``, for one company's plugins."""

    def __init__(self, callers: CompanyHookCallers, excluded: frozenset[str]):
        self._callers = callers
        self._excluded = excluded

    def __getattr__(self, name: str):
        return self._callers._caller(name, self._excluded)


class CompanyHook:
    """One company hook for one set of plugins, called with keyword arguments like pluggy's
    callers (``request`` among them) and returning the list of their answers.

    Each implementation is called on its own, so one that raises loses only its own
    contribution to the page: the failure is logged with the plugin's name and audited as
    ``plugin.hook_failed`` (see :func:`hook_failed`; once an hour per plugin, hook and
    company in a process, see :class:`FailureAudits`), and the other plugins are asked as if
    nothing happened. On PostgreSQL, where a failed statement spoils the rest of the
    transaction, an implementation called while the request's session is open runs in a
    savepoint (the core's own implementations, which read nothing there, are spared the
    round trips); one that opened the session itself and failed has its transaction
    dropped (it held nothing of the request's).
    """

    __slots__ = ("caller", "name", "core", "audits")

    def __init__(self, caller, core: frozenset[str] = frozenset(), audits=None):
        self.caller = caller
        self.name = caller.name
        self.core = core
        self.audits = audits if audits is not None else FailureAudits()

    def __call__(self, **kwargs) -> list:
        request = kwargs.get("request")
        results = []
        # in pluggy's order: the last registered first, tryfirst before trylast
        for impl in reversed(self.caller.get_hookimpls()):
            session = getattr(request, "opened_dbsession", None)
            try:
                with _savepoint(session if impl.plugin_name not in self.core else None):
                    result = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:
                if session is None and getattr(request, "opened_dbsession", None) is not None:
                    fresh_transaction(request)
                hook_failed(request, impl.plugin_name, self.name, exc, self.audits)
                continue
            if result is not None:
                results.append(result)
        return results


def _savepoint(session):
    """Where a failed statement would spoil the request's transaction (PostgreSQL), a
    savepoint to roll back to; elsewhere, nothing to do."""
    if session is not None and session.get_bind().dialect.name == "postgresql":
        return session.begin_nested()
    return nullcontext()


class FailureAudits:
    """Which failures of company hooks this process audited lately: a broken plugin fails on
    every page the company's people open, and its audit trail would fill with the same
    event. One ``plugin.hook_failed`` per plugin, hook, company and kind of error every
    :attr:`EVERY` (by the application's clock) is enough to see it; the log has each one."""

    EVERY = dt.timedelta(hours=1)
    #: past this many remembered failures, those older than EVERY are forgotten
    KEEP = 10_000

    def __init__(self):
        self._last: dict[tuple, dt.datetime] = {}
        self._lock = threading.Lock()

    def due(self, key: tuple, now: dt.datetime) -> bool:
        """Whether the failure ``key`` is to be audited at ``now`` (and, if so, it counts as
        audited from then on)."""
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.EVERY:
                return False
            if len(self._last) >= self.KEEP:
                self._last = {k: t for k, t in self._last.items() if now - t < self.EVERY}
            self._last[key] = now
            return True

    def forget(self, key: tuple) -> None:
        """The failure ``key`` could not be audited after all: the next one is."""
        with self._lock:
            self._last.pop(key, None)


def hook_failed(request, plugin: str, hook: str, error: Exception,
                audits: FailureAudits) -> None:
    """A plugin's company hook raised: logged now (with the traceback, for the operators),
    audited once the response is made, in a transaction of its own (the request's may be
    dropped, and on SQLite must end before another can write), unless ``audits`` says this
    failure was audited within the hour. The audit event names the plugin, the hook and the
    kind of error, never its message, which may hold anything."""
    log.exception("plugin %s failed in %s", plugin, hook)
    failures = request.hook_failures
    if not failures:
        request.add_finished_callback(partial(_audit_hook_failures, audits))
    failures[(plugin, hook)] = type(error).__name__


def _audit_hook_failures(audits: FailureAudits, request) -> None:
    company = getattr(request, "company", None)
    now = clock(request).now()
    for (plugin, hook), error in request.hook_failures.items():
        key = (plugin, hook, getattr(company, "id", None), error)
        if not audits.due(key, now):
            continue
        try:
            request.audit_now("plugin.hook_failed", company=company, target=plugin, hook=hook,
                              error=error)
        except Exception:  # the response is made: nothing left to fail but the record
            audits.forget(key)
            log.exception("the failure of plugin %s in %s could not be audited", plugin, hook)


def notify(hook_caller, where, /, **kwargs) -> list[str]:
    """Deliver an event to each implementation on its own.

    A failing implementation is logged, and audited through ``where`` (the
    request or the :class:`~mypages.events.EventContext` of the change),
    and does not stop the others. Returns the names of the plugins that failed.
    """
    failed = []
    for impl in reversed(hook_caller.get_hookimpls()):
        try:
            impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, hook_caller.name)
            failed.append(impl.plugin_name)
            where.audit("plugin.hook_failed", target=impl.plugin_name, hook=hook_caller.name)
    return failed


def include_plugins(config) -> None:
    """Directive: ``config.include`` every enabled plugin that has an ``includeme``."""
    registry = config.registry
    pm = registry["plugins.manager"]
    for info in registry["plugins.found"]:
        if not info.enabled:
            continue
        if hasattr(info.module, "includeme"):
            try:
                config.include(info.module)
            except PluginError:
                raise  # it names the plugin at fault, which may be another one
            except Exception as exc:
                raise PluginError(info.name, f"its includeme failed: {exc!r}") from exc
    for info in registry["plugins.found"]:
        if info.enabled:
            unknown = unknown_hooks(pm, info.module)
            if unknown:
                raise PluginError(info.name, f"it implements {unknown[0]!r}, which no hookspec "
                                             f"declares (a typo, or a hook of a newer mypages)")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        # the entry-point name the plugin was registered under, as the operator knows it
        name = pm.get_name(exc.plugin) or getattr(exc.plugin, "__name__", str(exc.plugin))
        raise PluginError(name, str(exc)) from exc
    # right away, so a plugin's bad module or job stops start-up with a PluginError
    _plugins_ready(registry)


def _owns(module, path: Path) -> bool:
    """Whether the file at ``path`` is part of the plugin ``module`` (a package or one file)."""
    location = getattr(module, "__file__", None)
    if not location:
        return False
    if hasattr(module, "__path__"):
        return Path(location).resolve().parent in path.parents
    return Path(location).resolve() == path


def explain_conflict(error: ConfigurationConflictError, found: list[PluginInfo]):
    """A PluginError naming both parties of the first conflict (two plugins, or a plugin and
    the core, adding the same route name, say) that involves a plugin; ``error`` itself when
    none does."""
    def owner(action_info) -> str | None:
        path = Path(action_info.file).resolve()
        return next((info.name for info in found if info.enabled and _owns(info.module, path)),
                    None)

    for discriminator, infos in error._conflicts.items():
        parties = [owner(info) for info in infos]
        plugins = [name for name in parties if name is not None]
        if not plugins:
            continue
        what = (f"route name {discriminator[1]!r}" if discriminator[0] == "route"
                else f"configuration {discriminator!r}")
        others = [f"plugin {name!r}" if name else "the core" for name in parties
                  if name != plugins[-1]] or [f"plugin {plugins[-1]!r} itself"]
        return PluginError(plugins[-1], f"its {what} is also added by {' and '.join(others)}")
    return error


def _plugins_ready(registry) -> None:
    for callback in registry.get("plugins.ready_callbacks", []):
        callback(registry)


def on_plugins_ready(config, callback) -> None:
    """Directive: run ``callback(registry)`` once all plugins are registered."""
    config.registry.setdefault("plugins.ready_callbacks", []).append(callback)


#: the prefix of the core's hooks; a plugin's own hooks are named after the plugin
CORE_PREFIX = "mypages_"


def add_hookspecs(config, module_or_class) -> None:
    """Directive: publish the hooks of a plugin's own (functions marked ``@hookspec`` in
    ``module_or_class``) for other plugins to implement, as pytest plugins do with
    ``pytest_addhooks``. Their names must not start with ``mypages_``, which is the core's.
    Implementations registered already are checked against them at once, and at the end of
    start-up any implementation of a hook nobody publishes stops start-up as before."""
    module_or_class = config.maybe_dotted(module_or_class)
    owner = getattr(module_or_class, "__module__", None) or module_or_class.__name__
    owner = owner.split(".", 1)[0]
    pm = config.registry["plugins.manager"]
    names = [name for name in dir(module_or_class)
             if pm.parse_hookspec_opts(module_or_class, name) is not None]
    if not names:
        raise PluginError(owner, f"{module_or_class!r} has no function marked @hookspec")
    taken = [name for name in names if name.startswith(CORE_PREFIX)]
    if taken:
        raise PluginError(owner, f"hook names starting with {CORE_PREFIX!r} are the core's: "
                                 + ", ".join(taken) + "; name your hooks after your plugin")
    try:
        pm.add_hookspecs(module_or_class)
    except (ValueError, pluggy.PluginValidationError) as exc:
        name = pm.get_name(getattr(exc, "plugin", None)) or owner
        raise PluginError(name, str(exc)) from exc


def plugin_hooks(where):
    """The hook callers of every enabled plugin (``plugin_hooks(job).notes_due(...)``), the
    hooks plugins publish with ``config.add_hookspecs`` among them; ``where`` is the
    registry, a request, or a job's or an event's context. ``request.company_hooks`` asks
    only the plugins of a request's company."""
    return registry_of(where)["plugins.manager"].hook


def register_core_hooks(config, name: str, module) -> None:
    """Directive: register hook implementations of a core domain under ``name``."""
    config.registry["plugins.manager"].register(config.maybe_dotted(module), name=name)
    config.registry.setdefault("plugins.core", set()).add(name)


def register(pm: pluggy.PluginManager, info: PluginInfo) -> None:
    """Register an enabled plugin; its use of deprecated hooks or arguments is logged by name."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", hookspecs.MypagesDeprecationWarning)
        try:
            pm.register(info.module, name=info.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(info.name, str(exc)) from exc
    for warning in caught:
        if issubclass(warning.category, hookspecs.MypagesDeprecationWarning):
            log.warning("plugin %s (%s, line %s): %s", info.name, warning.filename,
                        warning.lineno, warning.message)
        # and on to the warning filters in force, such as those of a plugin's test run
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)


def includeme(config):
    settings = settings_of(config)
    pm = make_plugin_manager()
    found = discover(list(settings.plugins_allow), list(settings.plugins_deny))
    refuse_development_plugins(settings, found)
    for info in found:
        if info.enabled:
            register(pm, info)
    config.registry["plugins.manager"] = pm
    config.registry["plugins.found"] = found
    config.add_directive("include_plugins", include_plugins)
    config.add_directive("on_plugins_ready", on_plugins_ready)
    config.add_directive("register_core_hooks", register_core_hooks)
    config.add_directive("add_hookspecs", add_hookspecs)
    config.add_request_method(lambda request: request.registry["plugins.manager"].hook,
                              "hooks", reify=True)
    # (plugin, hook) -> the kind of error, of the company hooks that failed in the request
    config.add_request_method(lambda request: {}, "hook_failures", reify=True)
