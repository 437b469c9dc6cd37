"""gunicorn servers, all started the same way: 2 sync workers on loopback, no access log
(a helper server, such as the SSO benchmark's identity provider, may take other workers)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

WORKERS = 2
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app_args: list[str]   # what gunicorn serves: an app spec or ["--paste", ini]
    ready_path: str       # a path that answers (any status below 500) once the app is up
    log: Path
    env: dict
    cwd: Path
    #: 0: a free port at start; set it when the app must know its own address beforehand
    port: int = 0
    workers: int = WORKERS
    threads: int = 1      # more than 1: gthread workers (keep-alive, requests side by side)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        # Access logs are off unless --access-logfile is given.
        workers = (["--worker-class", "gthread", "--threads", str(self.threads)]
                   if self.threads > 1 else ["--worker-class", "sync"])
        return [str(GUNICORN), "--workers", str(self.workers), *workers,
                "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
                "--error-logfile", str(self.log), *self.app_args]

    def start(self, timeout: float = 60, attempts: int = 3) -> "Server":
        preset = self.port
        for _ in range(attempts):  # another process may take the free port before we bind it
            self.port = preset or free_port()
            self.process = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log}:\n{self._log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + self.ready_path, timeout=5).status_code < 500:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        return False

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the master by its pid (it stops its workers), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
