"""Where a BankID sign-in through the plugin spends its time: the app in-process, under
cProfile, against the benchmark's fake BankID service in a process of its own.

``python -m bench.profile_bankid [SIGN_INS [STATS_FILE]]`` prepares the benchmark's workspace,
starts the fake, links the seeded person, then does SIGN_INS (default 300) whole sign-ins
(the four requests of ``bench.bankid``) with WebTest under cProfile, after timing them and
the bare RP client's calls one after the other, for scale. STATS_FILE keeps the raw data.
"""
from __future__ import annotations

import cProfile
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import bankid
from bench.profile_dashboard import report_profile
from bench.workspace import prepare


def sign_in_once(testapp, number: int) -> None:
    address = f"10.1.{number // 256 % 256}.{number % 256}"  # a client of its own, each
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": address}
    testapp.reset()
    page = testapp.get("/bankid/sign-in", extra_environ=environ)
    token = bankid.CSRF_PATTERN.search(page.text).group(1)
    started = testapp.post("/bankid/start", {
        "csrf_token": token, "purpose": "sign_in", "device": "qr", "restart": "1", "next": ""},
        extra_environ=environ, status=303)
    order = started.headers["location"].rstrip("/").rsplit("/", 1)[-1]
    state = testapp.get(f"/bankid/order/{order}/status", extra_environ=environ).json
    assert state.get("done"), state
    finished = testapp.post(f"/bankid/order/{order}/finish", {"csrf_token": token},
                            extra_environ=environ, status=303)
    assert "mypages_session" in testapp.cookies, finished


def main(sign_ins: int = 300, stats_file: str | None = None) -> int:
    from pyramid.paster import get_app
    from webtest import TestApp

    from mypages_bankid.client import RpConfig
    from mypages_bankid.fake import P12_PASSWORD

    directory = Path(tempfile.mkdtemp(prefix="mypages-profile-bankid-"))
    fake = None
    try:
        workspace = prepare(directory)
        certificates = directory / "bankid-certs"
        certificates.mkdir()
        fake, fake_url = bankid.start_fake(certificates, workspace.env)
        _, ini = bankid.configure(workspace, certificates, fake_url)
        os.environ[bankid.PASSWORD_VARIABLE] = P12_PASSWORD
        bankid.link_person(ini, workspace.seeded.email)
        testapp = TestApp(get_app(str(ini)), lint=False, extra_environ={"HTTP_HOST": "localhost"})
        bare = bankid.BareClient(RpConfig("test", fake_url, str(certificates / "server_ca.pem"),
                                          str(certificates / "rp.p12"), password=P12_PASSWORD), 1)
        for number in range(20):
            sign_in_once(testapp, number)
            bare.once({"number": 0})
        began = time.perf_counter()
        for number in range(sign_ins):
            sign_in_once(testapp, number)
        plugin_rate = sign_ins / (time.perf_counter() - began)
        began = time.perf_counter()
        for _ in range(sign_ins):
            bare.once({"number": 0})
        bare_rate = sign_ins / (time.perf_counter() - began)
        profiler = cProfile.Profile()
        profiler.enable()
        for number in range(sign_ins):
            sign_in_once(testapp, number)
        profiler.disable()
        bare.close()
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)
    if stats_file:
        profiler.dump_stats(stats_file)
    print(f"one after the other, in-process: plugin {plugin_rate:.1f} sign-ins/s "
          f"({1000 / plugin_rate:.2f} ms), bare RP client {bare_rate:.1f}/s "
          f"({1000 / bare_rate:.2f} ms), ratio {plugin_rate / bare_rate:.3f}")
    report_profile(profiler, top=45)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300,
                  sys.argv[2] if len(sys.argv) > 2 else None))
