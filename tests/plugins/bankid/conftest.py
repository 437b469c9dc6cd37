"""The fake RP API over HTTPS with mutual TLS on loopback, with certificates made for the run."""
from __future__ import annotations

import pytest

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
