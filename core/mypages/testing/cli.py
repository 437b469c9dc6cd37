"""The operator's command line run in the test's own process, with click's CliRunner.

A ``mypages`` process imports everything and builds the whole app before its
command runs; here the command runs on the app the test already has
(``OperatorCli(app=...)``), or on one built from an ini file
(``OperatorCli(ini=...)``), so what differs is only the process boundary.
"""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from mypages.cli import Env, main


class OperatorCli:
    """``cli("companies", "list")`` runs ``mypages companies list``; ``status`` is the exit
    status expected (2 for a refusal), ``input`` the standard input."""

    def __init__(self, app=None, ini: Path | str | None = None):
        if (app is None) == (ini is None):
            raise TypeError("give either the app or the ini file")
        self.app = app
        self.ini = str(ini) if ini is not None else "(the app under test)"

    def on(self, app) -> "OperatorCli":
        """The command line on ``app``, another application on the test's database."""
        return OperatorCli(app=app)

    def __call__(self, *args: str, input: str = "", status: int = 0) -> Result:
        # logging is the test run's: an ini's logging setup would replace pytest's handlers
        env = Env(self.ini, app=self.app, configure_logging=False)
        try:
            result = CliRunner().invoke(main, ["-c", self.ini, *args], input=input,
                                        obj={"env": env}, catch_exceptions=False)
        finally:
            env.close()
        assert result.exit_code == status, (result.stdout, result.stderr)
        return result

    def json(self, *args: str, **kw):
        return json.loads(self("--json", *args, **kw).stdout)
