"""The application under gunicorn on 127.0.0.1, as production serves it: for what only a real
HTTP server shows (a body refused before it is sent, the log lines of a real request)."""
from __future__ import annotations

import configparser
import http.client
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mypages.testing.chromium import stop
from mypages.testing.cli import OperatorCli
from mypages.testing.factories import TEST_ARGON2_SETTINGS

JSON_FORMATTER = "mypages.logs.JsonFormatter"


@dataclass
class Served:
    host: str
    port: int
    log: Path
    ini: Path

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=10)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = self.connection()
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_ini(path: Path, port: int, **settings: str) -> None:
    """An ini whose log lines are JSON (the formatter named in the ini, as an operator would)."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str
    ini["app:main"] = {
        "use": "call:mypages:main",
        "sqlalchemy.url": f"sqlite:///{path.parent / 'mypages.sqlite'}",
        "mypages.environment": "test",
        "mypages.secret": "served-test-secret-" + "s" * 40,
        "mypages.base_url": f"http://127.0.0.1:{port}",
        "mypages.session.secure": "false",
        "mypages.storage.directory": str(path.parent / "blobs"),
        **TEST_ARGON2_SETTINGS,
        **settings,
    }
    ini["loggers"] = {"keys": "root, mypages"}
    ini["handlers"] = {"keys": "console"}
    ini["formatters"] = {"keys": "json"}
    ini["logger_root"] = {"level": "WARN", "handlers": "console"}
    ini["logger_mypages"] = {"level": "INFO", "handlers": "", "qualname": "mypages"}
    ini["handler_console"] = {"class": "StreamHandler", "args": "(sys.stderr,)",
                              "level": "NOTSET", "formatter": "json"}
    ini["formatter_json"] = {"class": JSON_FORMATTER,
                             "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    with path.open("w") as out:
        ini.write(out)


@contextmanager
def gunicorn(folder: Path, **settings: str):
    """gunicorn (one sync worker) on a migrated database; its log lines end up in ``log``."""
    port = _free_port()
    ini, log = folder / "served.ini", folder / "server.log"
    write_ini(ini, port, **settings)
    OperatorCli(ini=ini)("db", "upgrade")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--paste", str(ini), "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--log-level", "warning"],
            stdout=log_file, stderr=subprocess.STDOUT, cwd=folder)
    served = Served("127.0.0.1", port, log, ini)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n"
                                   + log.read_text())
            try:
                served.get("/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer:\n" + log.read_text())
                time.sleep(0.05)
        yield served
    finally:
        stop(process)
