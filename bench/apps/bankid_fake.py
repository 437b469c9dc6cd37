"""The fake BankID RP API for the BankID benchmark, in a process of its own (so that its
TLS and XML signing share no interpreter with what is measured): ``python -m
bench.apps.bankid_fake DIRECTORY PORT``. Every order completes at its first collect, as
the person :data:`PERSON`; the certificates are written to DIRECTORY."""
from __future__ import annotations

import sys
import threading

from mypages_bankid.fake import FakeBankID, FakeCertificates, Outcome

PERSON = {"personalNumber": "199001011239", "name": "Bench Person", "givenName": "Bench",
          "surname": "Person"}


class BenchFake(FakeBankID):
    def _expire_all(self) -> None:
        pass  # every order completes at its first collect: none to expire, none to scan for


def main(directory: str, port: str) -> None:
    fake = BenchFake(FakeCertificates(directory))
    fake.default_outcome = Outcome("complete", person=dict(PERSON))
    fake.start(port=int(port))
    # nobody reads the requests kept for tests: forget them as they come
    fake.requests = _Forgetful()
    threading.Event().wait()


class _Forgetful(list):
    def append(self, item) -> None:
        pass


if __name__ == "__main__":
    main(*sys.argv[1:3])
