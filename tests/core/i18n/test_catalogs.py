"""Every message catalog of the core and of every installed plugin is complete.

Each screen must exist in all eight languages, so a missing .po, an empty or
fuzzy translation, a message the .po lacks, a broken placeholder or a .pot
that no longer matches the source fails here, naming the catalog, the
language and the message.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from mypages.i18n import LANGUAGES

PLACEHOLDER = re.compile(
    r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"  # Pyramid mapping: ${name}
    r"|%\([A-Za-z_][A-Za-z0-9_]*\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"  # python-format: %(name)s
)


@dataclass(frozen=True)
class Template:
    """One translation domain: its .pot and the folder of per-language catalogs."""

    package: str
    package_dir: Path
    pot: Path

    @property
    def domain(self) -> str:
        return self.pot.stem

    @property
    def locale_dir(self) -> Path:
        return self.pot.parent

    def po(self, language: str) -> Path:
        return self.locale_dir / language / "LC_MESSAGES" / f"{self.domain}.po"

    def mapping_file(self) -> Path | None:
        """The babel.cfg of a source checkout (the core's sits at the repository root,
        a plugin's beside its package); an installed wheel has none."""
        for folder in list(self.package_dir.parents)[:2]:
            if (folder / "babel.cfg").is_file():
                return folder / "babel.cfg"
        return None

    def __str__(self) -> str:
        return f"{self.package}:{self.pot.relative_to(self.package_dir)}"


def package_dir(module_name: str) -> Path:
    spec = importlib.util.find_spec(module_name)
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent


def plugin_modules() -> list[str]:
    return sorted({ep.module for ep in entry_points(group="mypages.plugins")})


def discover_templates() -> list[Template]:
    templates = []
    for module in ["mypages", *plugin_modules()]:
        folder = package_dir(module)
        templates += [Template(module, folder, pot) for pot in sorted((folder / "locale").glob("*.pot"))]
    return templates


TEMPLATES = discover_templates()


def read_catalog(path: Path, **kw) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, **kw)


def message_ids(messages) -> list:
    return [message.id for message in messages if message.id]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def catalog_problems(template: Template, language: str) -> list[str]:
    path = template.po(language)
    if not path.is_file():
        return [f"missing catalog {path.relative_to(template.package_dir)}"]
    pot = read_catalog(template.pot)
    po = read_catalog(path, locale=language)
    problems = []
    if po.fuzzy:
        problems.append("the header is marked fuzzy")
    for wanted in pot:
        if not wanted.id:
            continue
        message = po.get(wanted.id, context=wanted.context)
        if message is None or message.id != wanted.id:
            problems.append(f"not in the .po (run `make extract`): {wanted.id!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        forms = as_tuple(message.string)
        if message.pluralizable and len(forms) != po.num_plurals:
            problems.append(f"has {len(forms)} plural forms, Plural-Forms asks for {po.num_plurals}: "
                            f"{message.id!r}")
        if not all(forms):
            problems.append(f"untranslated: {message.id!r}")
            continue
        expected = set().union(*(placeholders(text) for text in as_tuple(message.id)))
        for form in forms:
            if placeholders(form) != expected:
                problems.append(f"placeholders {sorted(placeholders(form))} instead of {sorted(expected)}: "
                                f"{message.id!r} -> {form!r}")
    for message, errors in po.check():
        problems += [f"{error}: {message.id!r}" for error in errors]
    return problems


def test_the_core_and_installed_plugins_have_catalogs():
    packages = {template.package for template in TEMPLATES}
    assert "mypages" in packages
    # a plugin that ships translations without a .pot would escape every check below
    without_pot = [module for module in plugin_modules()
                   if (package_dir(module) / "locale").is_dir() and module not in packages]
    assert not without_pot, f"plugins with a locale/ folder but no .pot: {without_pot}"


@pytest.mark.parametrize("template", TEMPLATES, ids=str)
def test_every_language_is_complete(template):
    report = []
    for language in LANGUAGES:
        report += [f"{template.domain} [{language}]: {problem}"
                   for problem in catalog_problems(template, language)]
    assert not report, f"{template}: {len(report)} problems\n" + "\n".join(report)


def extracted_ids(source_dir: Path, mapping_file: Path) -> set:
    """The messages `make extract` would write, found the same way pybabel does."""
    with mapping_file.open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(mapping_file))
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            source_dir, method_map, options_map):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return {(message.id, message.context) for message in catalog if message.id}


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t.mapping_file()], ids=str)
def test_pot_is_up_to_date_with_the_source(template):
    in_source = extracted_ids(template.package_dir, template.mapping_file())
    in_pot = {(message.id, message.context) for message in read_catalog(template.pot) if message.id}
    report = [f"in the source but not in the .pot: {message_id!r}"
              for message_id, _ in sorted(in_source - in_pot, key=repr)]
    report += [f"in the .pot but no longer in the source: {message_id!r}"
               for message_id, _ in sorted(in_pot - in_source, key=repr)]
    assert not report, f"{template} is out of date, run `make extract`:\n" + "\n".join(report)


def test_the_core_checks_its_pot_against_the_source():
    core = next(template for template in TEMPLATES if template.package == "mypages")
    assert core.mapping_file() is not None, "babel.cfg of the core not found"
