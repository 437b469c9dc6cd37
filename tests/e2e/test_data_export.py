"""A company admin exports the company's data in a real browser: asks for it, watches the
page until the job has made it, downloads the archive once, and it opens."""
from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import expect

from mypages.storage.local import LocalBlobStore
from mypages.testing.cli import OperatorCli

from tests.e2e.steps import open_sign_in_and_sign_in

pytestmark = pytest.mark.e2e


def test_an_admin_exports_the_companys_data_and_opens_the_archive(browser_page, live_portal,
                                                                  tmp_path, monkeypatch):
    seeded, page = live_portal.seeded, browser_page
    # a document the company stored, as the portal keeps it (var/blobs beside its ini file)
    LocalBlobStore(live_portal.ini.parent / "var" / "blobs").put(
        f"companies/{seeded.company_id}/documents/e2e/original", b"%PDF e2e contract",
        "application/pdf")
    open_sign_in_and_sign_in(page, seeded.admin_email, seeded.password)
    page.goto(f"/c/{seeded.company_id}/settings/data")
    page.get_by_role("button", name="Export all data").click()
    row = page.locator("#exports tbody tr").first
    expect(row).to_have_attribute("data-status", "queued")
    expect(page.get_by_role("button", name="Export all data")).to_be_disabled()

    # the job worker, where the portal runs (its blobs are under var/ there)
    monkeypatch.chdir(live_portal.ini.parent)
    OperatorCli(ini=live_portal.ini)("jobs", "run")
    # the page looks again by itself until the archive is ready
    link = page.get_by_role("link", name="Download the archive")
    expect(link).to_be_visible(timeout=15_000)
    with page.expect_download() as downloading:
        link.click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)

    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        assert {"manifest.json", "core/company.json", "core/people.csv",
                "blobs/documents/e2e/original"} <= names
        assert archive.read("blobs/documents/e2e/original") == b"%PDF e2e contract"
        company = json.loads(archive.read("core/company.json"))[0]
        assert company["name"] == seeded.company_name
        people = {person["email"] for person in json.loads(archive.read("core/people.json"))}
        assert {seeded.admin_email, seeded.member_email} <= people
        # every plugin took part, each in a folder of its own
        assert {"notes/notes.json", "ocr/documents.json", "rates/follows.json",
                "bankid/identities.json"} <= names
    page.reload()
    expect(page.locator("#exports tbody tr").first).to_have_attribute("data-status",
                                                                      "downloaded")
    expect(page.get_by_role("link", name="Download the archive")).to_have_count(0)
