"""Running wrk and reading its report."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

THREADS = 1
CONNECTIONS = 8

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_REQUESTS_PER_SEC = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_TOTAL = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
#: what a Lua script's done() reports, one ``bench.<name>: <integer>`` line each
_SCRIPT_COUNT = re.compile(r"^bench\.(\w+):\s+(\d+)\s*$", re.M)


@dataclass
class WrkResult:
    requests_per_sec: float
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    non_2xx_3xx: int
    socket_errors: int
    script_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return path


def parse(output: str) -> WrkResult:
    rate = _REQUESTS_PER_SEC.search(output)
    if rate is None:
        raise ValueError(f"no Requests/sec line in wrk's output:\n{output}")
    percentiles = {p: float(value) * _UNITS[unit] for p, value, unit in _PERCENTILE.findall(output)}
    total = _TOTAL.search(output)
    non_2xx = _NON_2XX.search(output)
    errors = _SOCKET_ERRORS.search(output)
    return WrkResult(
        requests_per_sec=float(rate.group(1)),
        requests=int(total.group(1)) if total else 0,
        p50_ms=percentiles.get("50"),
        p99_ms=percentiles.get("99"),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        script_counts={name: int(value) for name, value in _SCRIPT_COUNT.findall(output)},
    )


def run(url: str, seconds: int, headers: dict[str, str] | None = None,
        script: Path | None = None, timeout: int | None = None,
        script_args: list[str] | None = None) -> WrkResult:
    """``timeout``: seconds before wrk counts a request as timed out (its default is 2);
    ``script_args`` reach the Lua script's ``init(args)``."""
    command = [wrk_path(), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["--script", str(script)]
    if timeout is not None:
        command += ["--timeout", f"{timeout}s"]
    done = subprocess.run(command + [url, *(["--", *script_args] if script_args else [])],
                          capture_output=True, text=True, check=True,
                          timeout=seconds + 60)
    return parse(done.stdout)


@dataclass
class SignInTurn:
    """A turn of a wrk script that counts the sign-ins it completed (answered 303) and how
    long it ran; the rate is completed sign-ins per second, not wrk's requests."""

    wrk: WrkResult

    @property
    def sign_ins(self) -> int:
        return self.wrk.script_counts["sign_ins"]

    @property
    def seconds(self) -> float:
        return self.wrk.script_counts["duration_us"] / 1e6

    @property
    def requests_per_sec(self) -> float:
        return self.sign_ins / self.seconds

    # latencies and errors as wrk saw them
    p50_ms = property(lambda self: self.wrk.p50_ms)
    p99_ms = property(lambda self: self.wrk.p99_ms)
    non_2xx_3xx = property(lambda self: self.wrk.non_2xx_3xx)
    socket_errors = property(lambda self: self.wrk.socket_errors)

    def as_dict(self) -> dict:
        return {"requests_per_sec": round(self.requests_per_sec, 3), "sign_ins": self.sign_ins,
                "seconds": round(self.seconds, 2),
                **{k: v for k, v in self.wrk.as_dict().items() if k != "requests_per_sec"}}
