"""Fixtures of the OCR plugin's tests: companies in the OCR trial (through the public
``modules`` fixture), and the ocr queue's worker (``run_jobs`` raises for a failed job, which
these tests bring about on purpose; this one counts the jobs and takes a worker's name).
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from mypages.jobs import Worker
from mypages.testing.plugin import sign_in
from mypages_ocr import MODULE_KEY

from tests.plugins.ocr.documents import SECOND_PAGE, SWEDISH, Page, document


@pytest.fixture(scope="session")
def mypages_settings(mypages_settings):
    """The portal with this plugin alone: its tests stand on their own, whatever else is
    installed. PDF pages are rendered at the resolution the test documents are made at."""
    return {**mypages_settings, "mypages.plugins.allow": "ocr", "mypages_ocr.dpi": "150"}


@pytest.fixture
def in_ocr_trial(modules):
    def start(company):
        modules.activate(company, MODULE_KEY)
        return company
    return start


@dataclass
class Member:
    company: object
    user: object

    @property
    def base(self) -> str:
        return f"/c/{self.company.id}/documents"


@pytest.fixture
def member(factory, in_ocr_trial, testapp):
    """A member of a company in the OCR trial, signed in on ``testapp``."""
    company = in_ocr_trial(factory.company())
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    return Member(company, user)


@pytest.fixture
def ocr_worker(app):
    """``ocr_worker()`` runs the ocr queue's due jobs, as ``mypages jobs worker --queue ocr``."""
    def run(name=None):
        return Worker(app.registry, name=name, queues=["ocr"]).run_queued()
    return run


@pytest.fixture(scope="session")
def two_page_pdf():
    return document([Page(SWEDISH), Page(SECOND_PAGE)], "pdf")


def upload(testapp, member, data: bytes, filename: str = "avtal.pdf", kind: str = "contract",
           status: int = 303):
    page = testapp.get(member.base)
    form = page.forms["upload-form"]
    form["kind"] = kind
    form["file"] = (filename, data)
    return form.submit(status=status)
