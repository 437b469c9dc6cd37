"""A faithful fake of BankID's RP API v6.0, for tests and for ``make run`` offline."""
from mypages_bankid.fake.certificates import P12_PASSWORD, FakeCertificates
from mypages_bankid.fake.server import FakeBankID, FakeError, Outcome

__all__ = ["FakeBankID", "FakeCertificates", "FakeError", "Outcome", "P12_PASSWORD"]
