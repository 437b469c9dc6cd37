"""scripts/audit-dependencies against a real pip-audit and an OSV API served on loopback.

The fake answers OSV's ``POST /v1/query`` in its documented format: one advisory for the
installed pyotp, none for anything else.
"""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "audit-dependencies"
ADVISORY = {"id": "PYSEC-0000-1", "aliases": ["CVE-0000-0001"], "summary": "test advisory",
            "affected": [{"package": {"name": "pyotp", "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": "999"}]}]}]}


class OsvQuery(BaseHTTPRequestHandler):
    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.asked.append(query["package"]["name"])
        body = json.dumps({"vulns": [ADVISORY]} if query["package"]["name"] == "pyotp" else {})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def osv_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), OsvQuery)
    server.asked = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()


def audit(osv_url, allowlist: Path, *extra):
    return subprocess.run([sys.executable, str(SCRIPT), "--osv-url", osv_url, *extra,
                           sysconfig.get_paths()["purelib"], str(allowlist)],
                          capture_output=True, text=True, timeout=120)


def test_a_finding_fails_the_audit(osv_url, tmp_path):
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text("# nothing accepted\n")
    run = audit(osv_url, allowlist)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "VULNERABLE pyotp" in run.stdout and "PYSEC-0000-1" in run.stdout


def test_an_accepted_finding_passes_with_its_reason(osv_url, tmp_path):
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text("CVE-0000-0001 only reachable from the operator's own CLI\n")
    run = audit(osv_url, allowlist)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "accepted  pyotp" in run.stdout and "operator's own CLI" in run.stdout


def test_a_stale_or_unexplained_entry_fails(osv_url, tmp_path):
    stale = tmp_path / "stale.txt"
    stale.write_text("CVE-0000-0001 accepted\nGHSA-gone-gone-gone fixed long ago\n")
    run = audit(osv_url, stale)
    assert run.returncode == 1 and "GHSA-gone-gone-gone matches no finding" in run.stdout
    unexplained = tmp_path / "unexplained.txt"
    unexplained.write_text("CVE-0000-0001\n")
    run = audit(osv_url, unexplained)
    assert run.returncode != 0 and "has no reason" in run.stderr


def test_an_unreachable_service_is_said_and_can_fail(tmp_path):
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text("")
    run = audit("http://127.0.0.1:9/v1/query", allowlist, "--require-service")
    assert run.returncode != 0
