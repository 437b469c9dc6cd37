"""``mypages plugin new NAME``: a new plugin's whole distribution, made from the copier
template shipped with the core (``mypages/plugin_template``), outside any repository.

What it makes passes ``mypages plugin check`` and its own tests as it is: the package with
its entry point and ``mypages_hookspec``, a module with a 10-day trial, a page, a settings
tab, a dashboard card, a model with its first migration in its own version table, a
nightly job, catalogs complete in all eight languages (the template's strings translated,
the module's title and description as given), tests on the public fixtures, a README and a
CI file. The catalogs' ``.pot`` is extracted from what was made, and every language
compiled, so the portal shows it at once.

copier is in the ``author`` extra (``pip install 'mypages[author]'``): without it the
command says so, and the rest of the core never needs it.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

import click

from mypages.hookspecs import HOOKSPEC_VERSION
from mypages.i18n import catalogs

try:
    import copier
except ImportError:  # the "author" extra is not installed; new_plugin() says so
    copier = None

__all__ = ["AuthoringError", "NewPlugin", "TEMPLATE", "new", "new_plugin"]

#: the copier template (package data of the core, so it works from an installed wheel)
TEMPLATE = Path(__file__).resolve().parent / "plugin_template"

#: a plugin's name: its entry point, its module's key and the prefix of its routes, tables
#: and jobs (short enough for PostgreSQL's 63-character constraint names)
NAME = re.compile(r"[a-z][a-z0-9_]{1,29}")

#: what the title and the description may not hold: they go into Python string literals,
#: catalogs and translation strings as they are
UNSAFE_TEXT = re.compile(r'["\\$%{}\[\]\n\r]')

EXTRA_MISSING = ("`mypages plugin new` needs copier, which the core's \"author\" extra "
                 "installs: pip install 'mypages[author]'")


class AuthoringError(ValueError):
    """What keeps the plugin from being made, and what to do instead."""


@dataclass(frozen=True)
class NewPlugin:
    """What ``new_plugin`` made: its folder and names."""

    folder: Path
    name: str
    package: str
    distribution: str


def _checked(name: str, title: str | None, description: str | None) -> dict:
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise AuthoringError(f"{name!r} is no plugin name: 2 to 30 lower-case letters, digits "
                             f"and underscores, starting with a letter (it becomes the entry "
                             f"point, the module's key and the prefix of routes and tables)")
    words = name.replace("_", " ").capitalize()
    title = (title or words).strip()
    description = (description or f"{words} for everyone in the company.").strip()
    for label, text in (("title", title), ("description", description)):
        if not text or len(text) > 200 or UNSAFE_TEXT.search(text):
            raise AuthoringError(f"the {label} {text!r} must be 1 to 200 characters, on one line, "
                                 f"without quotes, backslashes, brackets, braces, $ or %")
    return {"name": name, "title": title, "description": description,
            "hookspec": ".".join(map(str, HOOKSPEC_VERSION))}


def new_plugin(name: str, folder: Path | str | None = None, title: str | None = None,
               description: str | None = None) -> NewPlugin:
    """Make the plugin ``name`` in ``folder`` (``./mypages-NAME`` by default), which must not
    exist or be empty; its catalogs extracted and compiled."""
    answers = _checked(name, title, description)
    if copier is None:
        raise AuthoringError(EXTRA_MISSING)
    made = NewPlugin(folder=Path(folder or f"mypages-{name.replace('_', '-')}").resolve(),
                     name=name, package=f"mypages_{name}",
                     distribution=f"mypages-{name.replace('_', '-')}")
    if made.folder.exists() and (not made.folder.is_dir() or any(made.folder.iterdir())):
        raise AuthoringError(f"{made.folder} already exists and is not an empty folder: "
                             f"choose another with --into")
    copier.run_copy(str(TEMPLATE), made.folder, data=answers, defaults=True, quiet=True,
                    unsafe=False)
    domain = catalogs.Domain(made.package, made.folder / made.package, made.package,
                             made.distribution, name)
    catalogs.extract(domain)
    catalogs.compile_catalogs(domain)
    return made


@click.command("new")
@click.argument("name")
@click.option("--title", default=None, help="The module's title, in English (default: from NAME)")
@click.option("--description", default=None, help="One sentence on the module, in English")
@click.option("--into", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder to make it in (default: ./mypages-NAME); new or empty")
def new(name, title, description, folder):
    """Make a new plugin NAME: a complete distribution that passes `mypages plugin check`,
    with its tests, catalogs in all eight languages, a README and a CI file."""
    try:
        made = new_plugin(name, folder, title, description)
    except AuthoringError as refused:
        click.echo(f"Error: {refused}", err=True)
        raise SystemExit(2)
    click.echo(f"made {made.distribution} in {made.folder} (plugin {made.name}, package "
               f"{made.package}); next:\n"
               f"  cd {made.folder}\n"
               f"  pip install -e '.[test]'\n"
               f"  pytest\n"
               f"  mypages -c development.ini db upgrade && mypages -c development.ini demo "
               f"&& pserve development.ini")
