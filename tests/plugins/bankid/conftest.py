"""The fake RP API over HTTPS with mutual TLS on loopback, with certificates made for the run."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from mypages.testing.plugin import build_app

from mypages_bankid.client import RpClient, RpConfig
from mypages_bankid.fake import P12_PASSWORD, FakeBankID, FakeCertificates


class Clock:
    """The fake service's time, moved by the test."""

    def __init__(self):
        import time

        self.offset = 0.0
        self._time = time.time

    def __call__(self) -> float:
        return self._time() + self.offset

    def shift(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def bankid_certificates(tmp_path_factory):
    return FakeCertificates(tmp_path_factory.mktemp("bankid-certs"))


@pytest.fixture(scope="session")
def bankid_service(bankid_certificates):
    fake = FakeBankID(bankid_certificates, now=Clock()).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_bankid(bankid_service):
    """The fake service, emptied, its clock back to now."""
    bankid_service.reset()
    bankid_service.now.offset = 0.0
    yield bankid_service
    bankid_service.reset()


@pytest.fixture
def rp_config(fake_bankid, bankid_certificates):
    """``rp_config(**changes)``: the client's configuration for the fake (its PKCS#12 file)."""
    def make(**changes) -> RpConfig:
        values = dict(environment="test", url=fake_bankid.url,
                      ca_file=bankid_certificates.server_ca_file,
                      certificate=bankid_certificates.rp_p12_file, password=P12_PASSWORD,
                      timeout=5.0, retry_delay=0.0)
        values.update(changes)
        return RpConfig(**values)
    return make


@pytest.fixture
def rp_client(rp_config):
    client = RpClient(rp_config())
    yield client
    client.close()


PLUGIN_SOURCE = Path(__file__).resolve().parents[3] / "plugins" / "bankid"
PASSWORD_VARIABLE = "MYPAGES_TEST_BANKID_PASSWORD"


@pytest.fixture(scope="session")
def bankid_site(tmp_path_factory) -> Path:
    """A folder that makes the plugin's entry point visible (its code is the source's)."""
    site = tmp_path_factory.mktemp("bankid-site")
    info = site / "mypages_bankid-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypages-bankid\n"
                                   "Version: 0.1.0\n")
    (info / "entry_points.txt").write_text("[mypages.plugins]\nbankid = mypages_bankid\n"
                                           "[mypages.commands]\nbankid = mypages_bankid.cli:bankid\n")
    return site


def bankid_settings(fake, certificates) -> dict:
    return {"bankid.environment": "test", "bankid.url": fake.url,
            "bankid.ca_file": certificates.server_ca_file,
            "bankid.certificate": certificates.rp_p12_file,
            "bankid.certificate_password_env": PASSWORD_VARIABLE,
            "bankid.signing_ca_file": certificates.signing_ca_file,
            "bankid.retry_delay": "0",
            # a proxy in front, whose X-Forwarded-For is believed (and nobody else's)
            "mypages.trusted_proxies": "10.0.0.1"}


@pytest.fixture(scope="session")
def mypages_bankid_app(mypages_settings, bankid_site, bankid_service, bankid_certificates):
    """The application with the BankID plugin, talking to the fake over mutual TLS; built
    (and its tables migrated) once per database. The plugin's entry point is visible only
    while it is built."""
    os.environ[PASSWORD_VARIABLE] = P12_PASSWORD
    paths = [str(bankid_site), str(PLUGIN_SOURCE)]
    sys.path[:0] = paths
    importlib.invalidate_caches()
    try:
        built = build_app(dict(mypages_settings,
                               **bankid_settings(bankid_service, bankid_certificates)))
    finally:
        for path in paths:
            sys.path.remove(path)
        importlib.invalidate_caches()
    yield built
    built.registry["db.engine"].dispose()


@pytest.fixture
def bankid_app(app, mypages_bankid_app, fake_bankid):
    """The application with the BankID plugin; same database as ``app`` (emptied after the
    test, the plugin's tables too)."""
    yield mypages_bankid_app
    with mypages_bankid_app.registry["db.engine"].begin() as connection:
        connection.execute(text("DELETE FROM bankid_signatures"))
        connection.execute(text("DELETE FROM bankid_orders"))
        connection.execute(text("DELETE FROM bankid_identities"))


@pytest.fixture
def browser(bankid_app):
    """``browser(address)``: a WebTest browser of the BankID application."""
    from webtest import TestApp

    def make(address="192.0.2.10", agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"):
        return TestApp(bankid_app, extra_environ={
            "REMOTE_ADDR": address, "HTTP_HOST": "localhost", "HTTP_ACCEPT_LANGUAGE": "en",
            "HTTP_USER_AGENT": agent})
    return make
