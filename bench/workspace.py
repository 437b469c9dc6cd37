"""A run's temporary directory: the bench plugin, the environment of the servers, and the
small database every benchmark starts from."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import plugin, seed
from bench.measure import log
from bench.servers import Server

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Workspace:
    directory: Path
    env: dict               # for the servers: the plugin's directory and the repository on the path
    small_db: Path
    small_ini: Path
    seeded: seed.Seeded

    def copy_database(self, name: str) -> tuple[Path, Path]:
        """A copy of the small database with its own ini file; (database, ini)."""
        database = self.directory / f"{name}.sqlite"
        seed.copy_database(self.small_db, database)
        return database, seed.write_ini(self.directory, name, database)

    def server(self, name: str, app_args: list[str], ready_path: str, **options) -> Server:
        """A gunicorn server like all the others, logging into this directory; ``options``:
        :class:`Server`'s ``port``, ``workers``, ``threads``."""
        return Server(name, app_args, ready_path, self.directory / f"{name}.log", self.env, REPO,
                      **options)


def prepare(directory: Path) -> Workspace:
    log("installing the bench plugin")
    site = plugin.install(directory)
    module_keys = tuple(plugin.activate(site).MODULE_KEYS)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(p) for p in (site, REPO) if p is not None]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONWARNINGS"] = "ignore:pkg_resources is deprecated:UserWarning"

    small_db = directory / "small.sqlite"
    small_ini = seed.write_ini(directory, "small", small_db)
    log("migrating and seeding the small database")
    seed.migrate(Path(sys.executable).with_name("mypages"), small_ini, env)
    seeded = seed.seed_small(small_db, module_keys)
    return Workspace(directory, env, small_db, small_ini, seeded)
