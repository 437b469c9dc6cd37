"""Key fields read right from generated contracts and invoices of different layouts, and a
member's correction kept over a new reading."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.testing.plugin import audit_events
from mypages_ocr.engines import Reading, Source
from mypages_ocr.engines.tesseract import TesseractEngine, read_image
from mypages_ocr.fields import extract_fields
from mypages_ocr.files import page_images
from mypages_ocr.models import Document

from tests.plugins.ocr.conftest import upload
from tests.plugins.ocr.documents import SERIF, Page, document, draw

INVOICE_A = ["FAKTURA", "Leverantör: Kontorsmaskiner i Örebro AB", "Org.nr: 556036-0793",
             "Fakturanummer: 2024117", "Fakturadatum: 2024-03-01", "Förfallodatum: 2024-03-31",
             "Att betala: 12 450,00 kr"]
# (kind, lines of the page, where lines sit (column x by line index), expected fields)
LAYOUTS = [
    ("contract", ["Leasingavtal", "Leasegivare: Nordic Leasing AB", "Org.nr: 556677-8899",
                  "Avtalsnummer: LA-2024-001", "Leasingobjekt: Volvo XC60 T6",
                  "Startdatum: 2024-01-01", "Slutdatum: 2026-12-31",
                  "Månadskostnad: 4 500,00 kr", "Räntesats: 4,25 %"], {},
     {"counterparty": "Nordic Leasing AB", "org_number": "556677-8899",
      "contract_number": "LA-2024-001", "object": "Volvo XC60 T6", "start_date": "2024-01-01",
      "end_date": "2026-12-31", "monthly_cost": "4500.00", "currency": "SEK",
      "interest_rate": "4.25"}),
    # labels above their values, as in boxes
    ("contract", ["LEASINGAVTAL", "Avtalsnummer", "77120", "Uthyrare", "Skåne Maskin AB",
                  "Avtalsstart", "1 mars 2025", "Avtalsslut", "28 februari 2028",
                  "Månadsavgift", "12 000 SEK"], {},
     {"contract_number": "77120", "counterparty": "Skåne Maskin AB",
      "start_date": "2025-03-01", "end_date": "2028-02-28", "monthly_cost": "12000.00",
      "currency": "SEK"}),
    ("contract", ["Kontrakt nr. K-5531", "Motpart: Göta Finans AB", "Objekt: Gaffeltruck",
                  "Giltigt från: 15.04.2024", "Giltigt till: 14.04.2027",
                  "Leasingavgift per månad: 2 150 kr", "Total kostnad: 77 400 kr",
                  "Kalkylränta: 5,1 %"], {},
     {"contract_number": "K-5531", "counterparty": "Göta Finans AB", "object": "Gaffeltruck",
      "start_date": "2024-04-15", "end_date": "2027-04-14", "monthly_cost": "2150.00",
      "total": "77400.00", "interest_rate": "5.1"}),
    ("contract", ["Avtal om leasing av IT-utrustning", "Kontraktsnummer: IT/2023/88",
                  "Säljare: Datorhuset i Umeå AB", "Organisationsnummer 559012-3456",
                  "Avser: 25 bärbara datorer", "Från och med 2023-09-01",
                  "Till och med 2026-08-31", "Hyra per månad 6 250,50 kr"], {},
     {"contract_number": "IT/2023/88", "counterparty": "Datorhuset i Umeå AB",
      "org_number": "559012-3456", "object": "25 bärbara datorer",
      "start_date": "2023-09-01", "end_date": "2026-08-31", "monthly_cost": "6250.50"}),
    ("contract", ["LEASINGKONTRAKT", "Långivare: Bank Norr AB", "Avtals nr: 400-221",
                  "Leasingstart: 2025-06-01", "Månadskostnad: 899 EUR",
                  "Ränta: 3,75 %"], {},
     {"counterparty": "Bank Norr AB", "contract_number": "400-221",
      "start_date": "2025-06-01", "monthly_cost": "899.00", "currency": "EUR",
      "interest_rate": "3.75"}),
    ("invoice", INVOICE_A, {},
     {"counterparty": "Kontorsmaskiner i Örebro AB", "org_number": "556036-0793",
      "invoice_number": "2024117", "start_date": "2024-03-01", "end_date": "2024-03-31",
      "total": "12450.00", "currency": "SEK"}),
    # two columns: labels at the left, values at the right of the same line
    ("invoice", ["Faktura", "Fakturanr", "F88-12", "Förfaller", "2025-01-31", "Summa att betala",
                 "3 999,00 SEK"], {2: 400, 4: 400, 6: 400},
     {"invoice_number": "F88-12", "end_date": "2025-01-31", "total": "3999.00",
      "currency": "SEK"}),
    ("invoice", ["Säljare: Lund Städ AB", "Faktura nr: 5501", "Fakturadatum: 5 maj 2024",
                 "Förfallodag: 4 juni 2024", "Totalbelopp: 1 250 kr"], {},
     {"counterparty": "Lund Städ AB", "invoice_number": "5501", "start_date": "2024-05-05",
      "end_date": "2024-06-04", "total": "1250.00", "currency": "SEK"}),
    ("invoice", ["INVOICE / FAKTURA", "Leverantör: Baltic Trading AB", "Fakturanummer: BT-0007",
                 "Förfallodatum: 10.10.2024", "Att betala: 2 300,00 EUR"], {},
     {"counterparty": "Baltic Trading AB", "invoice_number": "BT-0007",
      "end_date": "2024-10-10", "total": "2300.00", "currency": "EUR"}),
    ("invoice", ["Faktura", "Fakturanummer", "900114", "Förfallodatum", "2024-12-20",
                 "Att betala", "45 000 kr"], {},
     {"invoice_number": "900114", "end_date": "2024-12-20", "total": "45000.00",
      "currency": "SEK"}),
    ("invoice", ["Fakturanr. 31-7", "Org. nr 556703-7485", "Totalt 780,00 SEK"], {},
     {"invoice_number": "31-7", "org_number": "556703-7485", "total": "780.00",
      "currency": "SEK"}),
]


@pytest.mark.parametrize("number", range(len(LAYOUTS)))
def test_key_fields_are_read_from_generated_documents(number):
    kind, lines, columns, expected = LAYOUTS[number]
    page = Page(lines, at=columns, font=SERIF if number % 2 else Page.font, size=20, width=900)
    reading = Reading([read_image(draw(page))])
    found = {field.name: field for field in extract_fields(reading, kind)}
    assert {name: found[name].value for name in expected if name in found} == expected
    assert all(0 < found[name].confidence <= 100 for name in expected)


def test_a_correction_is_kept_audited_and_wins_over_a_new_reading(
        app, testapp, member, dbsession, ocr_worker):
    upload(testapp, member, document([Page(INVOICE_A, size=18, width=800)], "png"),
           filename="faktura.png", kind="invoice")
    ocr_worker()
    dbsession.expire_all()
    read = dbsession.scalars(select(Document)).one()
    assert {f.name: f.value for f in read.fields}["total"] == "12450.00"

    page = testapp.get(f"{member.base}/{read.id}")
    form = [f for f in page.forms.values() if f.action.endswith("/fields/total")][0]
    form["value"] = "12405.00"
    form.submit(status=303)
    too_long = testapp.post(form.action, {"csrf_token": form["csrf_token"].value,
                                          "value": "9" * 501}, status=400)
    assert "högst 500 tecken" in too_long.text
    testapp.get(f"{member.base}/{read.id}").forms["reread-form"].submit(status=303)
    ocr_worker()

    dbsession.expire_all()
    fields = {f.name: f for f in dbsession.scalars(select(Document)).one().fields}
    assert (fields["total"].value, fields["total"].source) == ("12405.00", "person")
    assert fields["total"].corrected_by == member.user.id
    assert fields["invoice_number"].value == "2024117"  # the rest read again
    shown = testapp.get(f"{member.base}/{read.id}").html.find("tr", attrs={"data-field": "total"})
    assert shown.find("input", attrs={"name": "value"})["value"] == "12405.00"
    events = audit_events(dbsession, "ocr.field_corrected")
    assert len(events) == 1


def test_the_engine_reads_every_page_of_a_tiff(tmp_path):
    data = document([Page(["Första sidan"]), Page(["Andra sidan"])], "tiff")
    reading = TesseractEngine().read(Source(data, "image/tiff", 2, "other",
                                            lambda: page_images(data, "image/tiff", 150)))
    assert [page.text for page in reading.pages] == ["Första sidan", "Andra sidan"]
