"""A member reads a two-page contract in a real browser: uploads it, watches its status turn
to read without reloading (an ``ocr`` queue worker runs beside the portal), finds a word of
its second page, opens it with the word marked, and corrects a field; the document pages do
not scroll sideways on a phone or a laptop."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from mypages.testing.chromium import sign_in, stop

from tests.plugins.ocr.documents import SECOND_PAGE, SWEDISH, Page, draw

pytestmark = pytest.mark.e2e

#: as the live portal renders PDF pages (mypages_ocr.dpi's default), so they are read at the
#: size they were drawn
DPI = 300
WIDTHS = (390, 1366)


@pytest.fixture(scope="module")
def ocr_queue_worker(live_portal, tmp_path_factory):
    """``mypages jobs worker --queue ocr`` on the live portal's ini, as an operator runs it,
    beside the portal (its blobs are in the portal's directory)."""
    log = tmp_path_factory.mktemp("ocr-worker") / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("mypages")), "-c", str(live_portal.ini),
             "jobs", "worker", "--queue", "ocr", "--poll", "0.2"],
            stdout=out, stderr=subprocess.STDOUT, cwd=live_portal.ini.parent)
    yield process
    stop(process)


def two_page_contract() -> bytes:
    images = [draw(Page(SWEDISH)), draw(Page(SECOND_PAGE))]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def assert_no_sideways_scroll(page) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("[document.documentElement.scrollWidth, "
                                 "document.documentElement.clientWidth]")
        assert overflow[0] <= overflow[1], f"{page.url} at {width} px: {overflow}"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_member_uploads_watches_searches_and_corrects_a_contract(
        browser_page, live_portal, ocr_queue_worker):
    page = browser_page
    seeded = live_portal.seeded
    documents = f"/c/{seeded.company_id}/documents"
    page.goto("/login")
    sign_in(page, seeded.member_email, seeded.password)

    page.goto(documents)
    assert_no_sideways_scroll(page)
    page.get_by_label("Kind of document").select_option("contract")
    page.set_input_files("#file", files=[{"name": "leasingavtal.pdf",
                                          "mimeType": "application/pdf",
                                          "buffer": two_page_contract()}])
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    row = page.locator("#documents tr", has_text="leasingavtal.pdf").first
    expect(row.locator(".ocr-status")).to_have_attribute("data-status", "queued")

    # the status changes in place: the mark set on this page's window survives
    page.evaluate("window.ocrNotReloaded = true")
    expect(row.locator(".ocr-status")).to_have_attribute("data-status", "done",
                                                         timeout=120_000)
    expect(row.locator(".ocr-status-title")).to_have_text("Read")
    assert page.evaluate("window.ocrNotReloaded") is True

    page.get_by_label("Search the documents").fill("utrustningen")
    with page.expect_navigation():
        page.locator("#search-form").get_by_role("button", name="Search").click()
    hit = page.locator("#results li[data-page='2']", has_text="leasingavtal.pdf").first
    expect(hit.locator(".snippet mark")).to_have_text("Utrustningen")
    assert_no_sideways_scroll(page)
    with page.expect_navigation():
        hit.get_by_role("link").click()

    second = page.locator("section#page-2")
    expect(second.locator("rect.ocr-mark")).to_have_count(1)
    expect(second.locator("text.ocr-hit")).to_have_text("Utrustningen")
    expect(page.locator("section#page-1 rect.ocr-mark")).to_have_count(0)
    assert_no_sideways_scroll(page)

    total = page.locator("tr[data-field='total']")
    total.get_by_role("textbox").fill("12 345.00")
    with page.expect_navigation():
        total.get_by_role("button", name="Save").click()
    total = page.locator("tr[data-field='total']")
    expect(total.get_by_role("textbox")).to_have_value("12 345.00")
    expect(total).to_contain_text("Corrected by hand")
