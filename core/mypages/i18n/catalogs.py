"""The message catalogs of the core and of each plugin: extract, update, compile and check them
with Babel, in all eight languages (``mypages i18n ...``, :mod:`mypages.testing.checks`).

A plugin is found through its entry point without being imported (a broken plugin's catalogs
can still be worked on); its catalogs are ``<package>/locale/<domain>.pot`` and
``<package>/locale/<language>/LC_MESSAGES/<domain>.po``, its ``babel.cfg`` sits beside the
package in the source checkout. The rule for messages: every message a plugin shows, from its
Python code or its templates, is in the plugin's own catalog, translated there; a plugin's
template finding a message in the core's catalog when its own lacks it is a fallback, never
relied upon, and the checks demand the plugin's catalog complete.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import (CompileCatalog, ExtractMessages, InitCatalog, UpdateCatalog,
                                     parse_mapping_cfg)
from babel.messages.pofile import read_po

from mypages.i18n import LANGUAGES

PLUGIN_GROUP = "mypages.plugins"

PLACEHOLDER = re.compile(
    r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"  # Pyramid mapping: ${name}
    r"|%\([A-Za-z_][A-Za-z0-9_]*\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"  # python-format: %(name)s
)


class UnknownPlugin(LookupError):
    """No installed plugin has that entry-point name."""


@dataclass(frozen=True)
class Domain:
    """One translation domain of a package: its .pot and the folder of per-language catalogs."""

    package: str       # the Python package, such as ``mypages_example_notes``
    package_dir: Path
    name: str          # the gettext domain: the .pot's name
    project: str       # the distribution, written into the .pot's header
    plugin: str | None = None  # the plugin's entry-point name; None for the core

    @property
    def locale_dir(self) -> Path:
        return self.package_dir / "locale"

    @property
    def pot(self) -> Path:
        return self.locale_dir / f"{self.name}.pot"

    def po(self, language: str) -> Path:
        return self.locale_dir / language / "LC_MESSAGES" / f"{self.name}.po"

    def mapping_file(self) -> Path | None:
        """The babel.cfg of a source checkout (the core's sits at the repository root, a
        plugin's beside its package); an installed wheel has none."""
        for folder in list(self.package_dir.parents)[:2]:
            if (folder / "babel.cfg").is_file():
                return folder / "babel.cfg"
        return None

    @property
    def option(self) -> str:
        """The ``mypages i18n`` option that names this domain's owner."""
        return f"--plugin {self.plugin}" if self.plugin else "(no --plugin: the core)"

    def __str__(self) -> str:
        return f"{self.package}:locale/{self.name}.pot"


def package_dir(module_name: str) -> Path:
    """Where a module's package lies, found without importing it."""
    spec = importlib.util.find_spec(module_name)
    if spec is None:
        raise UnknownPlugin(f"package {module_name} is not installed")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent


def _domains_of(package: str, project: str, plugin: str | None) -> list[Domain]:
    folder = package_dir(package)
    pots = sorted((folder / "locale").glob("*.pot"))
    names = [pot.stem for pot in pots] or [package]  # a new plugin's domain: its package
    return [Domain(package, folder, name, project, plugin) for name in names]


def core_domains() -> list[Domain]:
    return _domains_of("mypages", "mypages", None)


def plugin_domains(name: str) -> list[Domain]:
    """The domains of the installed plugin whose entry point is called ``name``."""
    for ep in entry_points(group=PLUGIN_GROUP):
        if ep.name == name:
            return _domains_of(ep.module.split(".")[0], ep.dist.name if ep.dist else ep.module,
                               ep.name)
    raise UnknownPlugin(f"no installed plugin is called {name!r} (see `mypages plugins list`)")


def all_domains() -> list[Domain]:
    """The core's domains, then every installed plugin's that ships a locale folder."""
    found = core_domains()
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name):
        if (package_dir(ep.module.split(".")[0]) / "locale").is_dir():
            found += plugin_domains(ep.name)
    return found


def _run(command_class, **options) -> None:
    """A Babel frontend command (``pybabel``'s), run in this process."""
    command = command_class()
    command.initialize_options()
    for key, value in options.items():
        setattr(command, key, value)
    command.finalize_options()
    command.run()


def extract(domain: Domain) -> Path:
    """Write the domain's .pot from its source (``pybabel extract``); needs its babel.cfg."""
    mapping = domain.mapping_file()
    if mapping is None:
        raise FileNotFoundError(f"{domain}: no babel.cfg beside {domain.package_dir} "
                                f"(extract from a source checkout)")
    domain.locale_dir.mkdir(exist_ok=True)
    _run(ExtractMessages, input_paths=[str(domain.package_dir)], output_file=str(domain.pot),
         mapping_file=str(mapping), no_location=True, project=domain.project)
    return domain.pot


def update(domain: Domain) -> list[Path]:
    """Merge the .pot into every language's .po, creating those that are missing
    (``pybabel update``/``init``); new messages wait untranslated."""
    written = []
    for language in LANGUAGES:
        po = domain.po(language)
        if po.is_file():
            _run(UpdateCatalog, input_file=str(domain.pot), output_dir=str(domain.locale_dir),
                 domain=domain.name, locale=language, no_fuzzy_matching=True,
                 ignore_obsolete=True)
        else:
            _run(InitCatalog, input_file=str(domain.pot), output_dir=str(domain.locale_dir),
                 domain=domain.name, locale=language)
        written.append(po)
    return written


def compile_catalogs(domain: Domain) -> list[Path]:
    """Compile every language's .po into the .mo the portal reads (``pybabel compile``)."""
    _run(CompileCatalog, directory=str(domain.locale_dir), domain=domain.name)
    return [domain.po(language).with_suffix(".mo") for language in LANGUAGES
            if domain.po(language).is_file()]


# -- checks ---------------------------------------------------------------------

def _read(path: Path, **kw) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, **kw)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def language_problems(domain: Domain, language: str) -> list[tuple[str, str]]:
    """(problem, fix) for one language's catalog: missing, fuzzy, lacking or untranslated
    messages, wrong plural forms, placeholders that differ from the message's."""
    path = domain.po(language)
    where = f"{domain.name} [{language}]"
    update_fix = f"run `mypages i18n update {domain.option}`, then translate the new messages"
    if not path.is_file():
        return [(f"{where}: missing catalog {path.relative_to(domain.package_dir)}", update_fix)]
    translate = f"translate it in {path.relative_to(domain.package_dir)} (no fuzzy flag)"
    pot = _read(domain.pot)
    po = _read(path, locale=language)
    problems = []
    if po.fuzzy:
        problems.append((f"{where}: the header is marked fuzzy", translate))
    for wanted in pot:
        if not wanted.id:
            continue
        message = po.get(wanted.id, context=wanted.context)
        if message is None or message.id != wanted.id:
            problems.append((f"{where}: not in the .po: {wanted.id!r}", update_fix))
            continue
        if message.fuzzy:
            problems.append((f"{where}: fuzzy: {message.id!r}", translate))
        forms = _as_tuple(message.string)
        if message.pluralizable and len(forms) != po.num_plurals:
            problems.append((f"{where}: has {len(forms)} plural forms, Plural-Forms asks for "
                             f"{po.num_plurals}: {message.id!r}", translate))
        if not all(forms):
            problems.append((f"{where}: untranslated: {message.id!r}", translate))
            continue
        expected = set().union(*(_placeholders(text) for text in _as_tuple(message.id)))
        for form in forms:
            if _placeholders(form) != expected:
                problems.append((f"{where}: placeholders {sorted(_placeholders(form))} instead of "
                                 f"{sorted(expected)}: {message.id!r} -> {form!r}", translate))
    for message, errors in po.check():
        problems += [(f"{where}: {error}: {message.id!r}", translate) for error in errors]
    return problems


def extracted_ids(domain: Domain) -> set[tuple]:
    """(id, context) of the messages `mypages i18n extract` would write, found as Babel does."""
    mapping = domain.mapping_file()
    with mapping.open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(mapping))
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            domain.package_dir, method_map, options_map):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return {(message.id, message.context) for message in catalog if message.id}


def freshness_problems(domain: Domain) -> list[tuple[str, str]]:
    """(problem, fix) for a .pot that no longer matches the source: messages added to the code
    or templates and not extracted, or extracted and since removed. Needs the babel.cfg of a
    source checkout (an installed wheel's .pot is what it shipped with)."""
    fix = f"run `mypages i18n extract {domain.option}` and `mypages i18n update {domain.option}`"
    if not domain.pot.is_file():
        return [(f"{domain}: there is no .pot", fix)]
    if domain.mapping_file() is None:
        return []
    in_source = extracted_ids(domain)
    in_pot = {(message.id, message.context) for message in _read(domain.pot) if message.id}
    problems = [(f"{domain}: in the source but not in the .pot: {message_id!r}", fix)
                for message_id, _ in sorted(in_source - in_pot, key=repr)]
    problems += [(f"{domain}: in the .pot but no longer in the source: {message_id!r}", fix)
                 for message_id, _ in sorted(in_pot - in_source, key=repr)]
    return problems


def problems(domain: Domain) -> list[tuple[str, str]]:
    """(problem, fix) for the domain: its .pot fresh, and complete in all eight languages."""
    found = freshness_problems(domain)
    if not domain.pot.is_file():
        return found
    for language in LANGUAGES:
        found += language_problems(domain, language)
    return found
