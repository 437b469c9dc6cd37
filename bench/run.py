"""``python -m bench [dashboard] [login] [sso] [rates] [ocr] [bankid] [load]``: the
benchmarks, in one run (all but load when none is named).

dashboard  the company dashboard against a bare app and one SELECT, on a small and a
           large database (bench/dashboard.py)
login      password sign-in against the raw argon2 verify rate (bench/login.py)
sso        completed OpenID Connect callbacks against the bare verification of the
           ID token's signature (bench/sso.py)
load       reliability: a minute of mixed traffic on PostgreSQL while a web worker and a
           job worker are killed; no 5xx, no job run twice or lost, every change audited,
           the audit trail verifies (bench/load.py; only when named)
rates      a ten-year backfill of 40 rate series stored by the rates plugin against a
           raw bulk insert, a re-run that changes nothing, and the rates page with a
           ten-year chart against one SELECT (bench/rates.py)
ocr        pages per second through the OCR plugin's job queue against tesseract run
           directly, and two OCR workers against one (bench/ocr.py)
bankid     complete BankID sign-ins through the plugin against the bare RP client's
           calls to the same fake (bench/bankid.py)

They share the temporary directory (bench plugin, small database) and write their
sections of ``bench/results/latest.json``; a section of a benchmark that did not run
is kept from the previous run. BENCH_KEEP=1 keeps the temporary directory with
databases, ini files and server logs. Each benchmark reads its own settings; see
bench/README.md.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import bankid, dashboard, load, login, ocr, rates, sso, wrk, workspace
from bench.measure import log

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
BENCHMARKS = {"dashboard": dashboard.run, "login": login.run, "sso": sso.run,
              "rates": rates.run, "ocr": ocr.run, "bankid": bankid.run, "load": load.run}
#: what runs when none is named
DEFAULT = ("dashboard", "login", "sso", "rates", "ocr", "bankid")
#: what needs no workspace (bench plugin, small database) and no wrk
STANDALONE = ("load",)


def git_revision() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=workspace.REPO,
                              capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return done.stdout.strip() or None


def write_results(sections: dict[str, dict]) -> None:
    """Replace the sections of the benchmarks that ran, keep the others."""
    try:
        kept = json.loads(RESULTS.read_text()).get("benchmarks", {})
    except (OSError, ValueError):
        kept = {}
    RESULTS.parent.mkdir(exist_ok=True)
    merged = {**kept, **sections}
    RESULTS.write_text(json.dumps({"benchmarks": {name: merged[name] for name in BENCHMARKS
                                                  if name in merged}}, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or any(name in ("-h", "--help") for name in names):
        print(__doc__.strip(), file=sys.stderr if unknown else sys.stdout)
        if unknown:
            print(f"\nno such benchmark: {', '.join(unknown)}", file=sys.stderr)
        return 2 if unknown else 0
    names = [name for name in BENCHMARKS if name in names] or list(DEFAULT)
    keep = os.environ.get("BENCH_KEEP", "") not in ("", "0")
    needs_workspace = any(name not in STANDALONE for name in names)
    if needs_workspace:
        wrk.wrk_path()  # fail before seeding when the load generator is missing

    directory = Path(tempfile.mkdtemp(prefix="mypages-bench-"))
    sections = {}
    started = time.perf_counter()
    try:
        prepared = workspace.prepare(directory) if needs_workspace else None
        for name in names:
            log(f"\n== {name} ==")
            began = time.perf_counter()
            section = BENCHMARKS[name](prepared)
            sections[name] = {
                "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "git_revision": git_revision(),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform()},
                **section,
                "total_seconds": round(time.perf_counter() - began, 1),
            }
    finally:
        if keep:
            log(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
        if sections:  # what finished is worth keeping even when a later benchmark failed
            write_results(sections)

    log(f"\nresults written to {RESULTS.relative_to(workspace.REPO)} "
        f"(whole run {time.perf_counter() - started:.0f} s)")
    failed = [name for name, section in sections.items() if section.get("passed") is False]
    if failed:
        log(f"checks failed: {', '.join(failed)}")
        return 1
    return 0
