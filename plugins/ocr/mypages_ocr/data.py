"""OCR in a company's data export and erasure: its documents, what was read on each page,
and their key fields (the originals and page images are blobs of the company's store,
which the core exports and erases itself)."""
from __future__ import annotations

from sqlalchemy import delete, select, text

from mypages.toolkit import hookimpl

from mypages_ocr.models import Document, Field, Page


@hookimpl
def mypages_company_export(context, company, archive):
    dbsession = context.dbsession
    archive.add_rows("documents", [
        {"id": document.id, "filename": document.filename, "kind": document.kind,
         "content_type": document.content_type, "size": document.size,
         "page_count": document.page_count, "status": document.status,
         "uploaded_by": document.uploaded_by, "created_at": document.created_at,
         "read_at": document.read_at, "engine": document.engine,
         "confidence": document.confidence, "original": f"blobs/{document.blob_key}"}
        for document in dbsession.scalars(select(Document).where(
            Document.company_id == company.id).order_by(Document.id))])
    archive.add_rows("pages", [
        {"document_id": page.document_id, "number": page.number, "text": page.text,
         "confidence": page.confidence, "lines": page.lines}
        for page in dbsession.scalars(select(Page).where(Page.company_id == company.id)
                                      .order_by(Page.document_id, Page.number))])
    archive.add_rows("fields", [
        {"document_id": field.document_id, "name": field.name, "value": field.value,
         "confidence": field.confidence, "page": field.page, "source": field.source,
         "corrected_by": field.corrected_by, "corrected_at": field.corrected_at}
        for field in dbsession.scalars(select(Field).where(Field.company_id == company.id)
                                       .order_by(Field.document_id, Field.id))])


@hookimpl
def mypages_company_erase(context, company):
    dbsession = context.dbsession
    for model in (Field, Page, Document):
        dbsession.execute(delete(model).where(model.company_id == company.id))
    if dbsession.get_bind().dialect.name == "sqlite":
        # the search index drops deleted text only when its segments are merged
        dbsession.execute(text("INSERT INTO ocr_pages_fts(ocr_pages_fts) VALUES ('optimize')"))
