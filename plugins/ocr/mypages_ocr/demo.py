"""Demo data (``mypages demo``, development only): a leasing contract in the demo company,
drawn here and queued for reading, so the document list, the document view and the search
have something to show once the company tries the OCR module."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from mypages.toolkit import blob_store

from mypages_ocr.files import examine
from mypages_ocr.models import Document, add_document
from mypages_ocr.reading import JOB, dedupe_key

DEMO_COMPANY = "Demo AB"
FILENAME = "exempel-leasingavtal.png"
CONTRACT = [
    "LEASINGAVTAL",
    "Leasegivare: Nordleasing Finans AB",
    "Organisationsnummer: 556036-0793",
    "Avtalsnummer: LA-2026-0042",
    "Leasingobjekt: Multifunktionsskrivare Kontor 5000",
    "Startdatum: 2026-01-01",
    "Slutdatum: 2028-12-31",
    "Månadskostnad: 1 250,00 SEK",
    "Totalbelopp: 45 000,00 SEK",
    "Räntesats: 4,5 %",
    "Leasetagaren ansvarar för att utrustningen återlämnas i gott skick.",
]


def contract_png() -> bytes:
    """The contract as a scanner would give it: black text on a white A4-like page."""
    try:  # Pillow's own font has no å, ä or ö; Debian's DejaVu has
        font = ImageFont.truetype("DejaVuSans.ttf", 26)
    except OSError:
        font = ImageFont.load_default(size=26)
    image = Image.new("L", (1240, 1000), "white")
    pen = ImageDraw.Draw(image)
    for number, line in enumerate(CONTRACT):
        pen.text((80, 80 + number * 62), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed(context) -> list[str]:
    company = context.company(DEMO_COMPANY)
    found = context.dbsession.scalars(select(Document.id).where(
        Document.company_id == company.id, Document.filename == FILENAME)).first()
    if found is None:
        data = contract_png()
        facts = examine(data)
        document = add_document(context.dbsession, company.id, None, FILENAME, "contract",
                                data, facts, context.now())
        blob_store(context.registry, company).put(document.blob_key, data, facts.content_type)
        context.work.enqueue(JOB, {"document_id": document.id},
                             dedupe_key=dedupe_key(document.id))
        context.audit("ocr.document_uploaded", company=company,
                      target=f"document:{document.id}", kind="contract", pages=1,
                      size=document.size)
    return [f"a leasing contract ({FILENAME}) in {company.name}, read by the ocr queue "
            "(activate the OCR trial to see it)"]
