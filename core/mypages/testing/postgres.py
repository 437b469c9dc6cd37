"""A throwaway PostgreSQL server on loopback, for tests.

``initdb`` refuses to run as root, so as root the server runs as the
``postgres`` user. Durability is switched off: the data lives only as long
as the test run.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


class PostgresNotAvailable(RuntimeError):
    pass


def find_bindir() -> str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return os.path.dirname(candidates[0])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(os.path.realpath(initdb))
    raise PostgresNotAvailable("PostgreSQL server programs (initdb, pg_ctl) are not installed; "
                               "on Debian: apt-get install postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self):
        self.bindir = find_bindir()
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="mypages-pg-")
        self.datadir = os.path.join(self.root, "data")
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self) -> "ThrowawayPostgres":
        self._run(os.path.join(self.bindir, "initdb"), "--no-sync", "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "-D", self.datadir)
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-o", options,
                  "-l", os.path.join(self.root, "log"), "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-m", "immediate",
                      "-w", "stop", timeout=30)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                return
            except OSError:
                time.sleep(0.1)
