"""``mypages plugin check NAME``: the checks of :mod:`mypages.testing.checks` on one plugin,
from the command line, and ``mypages plugin new NAME`` (:mod:`mypages.authoring`); added to
the ``mypages`` command through the ``mypages.commands`` entry points. They need the
``author`` extra (``pip install 'mypages[author]'``: the ``test`` extra and copier)."""
from __future__ import annotations

import sys

import click

from mypages.authoring import new
from mypages.testing.checks import Problem, plugin_problems


def _pairs(given: tuple[str, ...], option: str) -> dict:
    pairs = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint=option)
        pairs[name] = value
    return pairs


@click.group("plugin")
def plugin():
    """Make a new plugin; check a plugin before it is released."""


plugin.add_command(new)


@plugin.command("check")
@click.argument("name")
@click.option("-p", "--placeholder", "placeholders", multiple=True, metavar="NAME=VALUE",
              help="A value for a placeholder of the plugin's route patterns (company_id is "
                   "given; ROUTE.NAME=VALUE for one route only); repeat for more")
@click.option("-f", "--field", "fields", multiple=True, metavar="NAME=VALUE",
              help="A field of the forged form the CSRF check posts; repeat for more")
@click.option("--skip", multiple=True, metavar="ROUTE",
              help="A route to leave out (a callback that carries no CSRF token by design)")
def check(name, placeholders, fields, skip):
    """Run every check on the installed plugin NAME (its entry-point name) on a throwaway
    SQLite database: hooks, catalogs in all eight languages, migrations against models,
    CSRF on every POST route, and how every company page answers through the module's
    lifecycle. Prints each problem with its fix; exit status 1 if there is any."""
    given = (_pairs(placeholders, "--placeholder"), _pairs(fields, "--field"))
    try:
        problems = plugin_problems(name, *given, skip=skip)
    except Exception as exc:  # never a traceback in place of an answer
        problems = [Problem(f"checking plugin {name!r} stopped: {exc!r}",
                            "report it with the plugin and the command that was run")]
    for problem in problems:
        click.echo(f"{problem}\n")
    if problems:
        click.echo(f"plugin {name}: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"plugin {name}: no problems found (hooks, catalogs, migrations, CSRF, "
               f"company pages)")
