"""Documents in the REST API: listed and filtered, read (status, text per page, key fields)
with ``documents:read``; uploaded, corrected and deleted with ``documents:write``. Every
operation belongs to the OCR module, and every document is looked up within the token's
company: another company's document id is ``404``, as one that does not exist."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mypages.toolkit import ApiProblem, blob_store

from mypages_ocr import search
from mypages_ocr.fields import FIELDS
from mypages_ocr.files import FileRefused, take_upload
from mypages_ocr.i18n import _
from mypages_ocr.models import (KINDS, STATUSES, Document, Field, Page, add_document,
                                correct_field_value, filtered)
from mypages_ocr.reading import JOB, SETTINGS_KEY, dedupe_key, reason_text

MODULE_KEY = "ocr"
TAGS = ("documents",)
MAX_ID = 2 ** 31 - 1
REFUSED = _("The document cannot be taken")

#: text without control characters (the portal refuses them in any parameter)
NO_CONTROLS = r"^[^\u0000-\u001f\u007f]*$"
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
BOX = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
       "description": "left, top, width, height as fractions of the page"}
CONFIDENCE = {"type": ["number", "null"], "minimum": 0, "maximum": 100}

DOCUMENT = {
    "type": "object",
    "required": ["id", "filename", "kind", "content_type", "size", "page_count", "status",
                 "reason", "reason_text", "engine", "confidence", "created_at", "read_at"],
    "properties": {
        "id": {"type": "integer"},
        "filename": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "content_type": {"type": "string"},
        "size": {"type": "integer", "description": "bytes"},
        "page_count": {"type": "integer"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "reason": {"type": ["string", "null"],
                   "description": "why it failed or waits for another try: a stable code"},
        "reason_text": {"type": ["string", "null"],
                        "description": "the reason in the caller's language"},
        "engine": {"type": ["string", "null"]},
        "confidence": CONFIDENCE,
        "created_at": {"type": "string", "format": "date-time"},
        "read_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

WORD = {"type": "object", "required": ["text", "confidence", "box"],
        "properties": {"text": {"type": "string"}, "confidence": {"type": "number"},
                       "box": BOX}}
PAGE = {
    "type": "object",
    "required": ["number", "width", "height", "text", "confidence", "lines"],
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "text": {"type": "string"},
        "confidence": CONFIDENCE,
        "lines": {"type": "array", "items": {
            "type": "object", "required": ["text", "confidence", "box", "words"],
            "properties": {"text": {"type": "string"}, "confidence": {"type": "number"},
                           "box": BOX, "words": {"type": "array", "items": WORD}}}},
    },
}
PAGES = {"type": "object", "required": ["pages"],
         "properties": {"pages": {"type": "array",
                                  "items": {"$ref": "#/components/schemas/DocumentPage"}}}}

FIELD = {
    "type": "object",
    "required": ["name", "value", "confidence", "page", "source", "corrected_at"],
    "properties": {
        "name": {"type": "string", "enum": list(FIELDS)},
        "value": {"type": "string"},
        "confidence": CONFIDENCE,
        "page": {"type": ["integer", "null"]},
        "source": {"type": "string", "enum": ["text", "expense", "query", "person"]},
        "corrected_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
FIELDS_LIST = {"type": "object", "required": ["fields"],
               "properties": {"fields": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/DocumentField"}}}}
FIELD_VALUE = {"type": "object", "required": ["value"], "additionalProperties": False,
               "properties": {"value": {"type": "string", "maxLength": 500}}}
UPLOAD = {
    "type": "object",
    "required": ["file"],
    "additionalProperties": False,
    "properties": {
        "file": {"contentMediaType": "application/octet-stream",
                 "description": "the document: PDF, PNG, JPEG or TIFF (told from its "
                                "content, not its name)"},
        "kind": {"type": "string", "enum": list(KINDS), "default": "other"},
    },
}

FILTERS = [
    {"name": "kind", "in": "query", "required": False, "schema": {"type": "string",
                                                                  "enum": list(KINDS)}},
    {"name": "status", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(STATUSES)}},
    {"name": "since", "in": "query", "required": False,
     "description": "uploaded on or after this day (UTC)",
     "schema": {"type": "string", "format": "date"}},
    {"name": "until", "in": "query", "required": False,
     "description": "uploaded on or before this day (UTC)",
     "schema": {"type": "string", "format": "date"}},
    {"name": "q", "in": "query", "required": False,
     "description": "words the document's text holds (Swedish full-text search)",
     "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_CONTROLS}},
]
DOCUMENT_ID = [{"name": "document_id", "in": "path", "required": True, "schema": ID}]
FIELD_NAME = {"name": "field_name", "in": "path", "required": True,
              "schema": {"type": "string", "enum": list(FIELDS)}}


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value) -> dt.date | None:
    # checked as a date by the document already; openapi-core may leave it a string
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def document_item(call, document: Document) -> dict:
    reason = reason_text(document.reason)
    return {"id": document.id, "filename": document.filename, "kind": document.kind,
            "content_type": document.content_type, "size": document.size,
            "page_count": document.page_count, "status": document.status,
            "reason": document.reason,
            "reason_text": call.translate(reason) if reason is not None else None,
            "engine": document.engine,
            "confidence": round(document.confidence, 1) if document.confidence is not None
            else None,
            "created_at": _time(document.created_at), "read_at": _time(document.read_at)}


def _field_item(field: Field) -> dict:
    return {"name": field.name, "value": field.value, "confidence": field.confidence,
            "page": field.page, "source": field.source, "corrected_at": _time(field.corrected_at)}


def _document(call) -> Document:
    document = call.dbsession.scalars(select(Document).where(
        Document.id == int(call.path["document_id"]),
        Document.company_id == call.company.id)).first()
    if document is None:
        raise ApiProblem("not-found")
    return document


def list_documents(call):
    filters = {"kind": call.query.get("kind", ""), "status": call.query.get("status", ""),
               "since": _day(call.query.get("since")), "until": _day(call.query.get("until"))}
    query = filtered(select(Document).where(Document.company_id == call.company.id), filters)
    matching = search.matching_documents(call.dbsession, call.company.id,
                                         call.query.get("q", ""))
    if matching is not None:
        query = query.where(Document.id.in_(matching))
    if call.page.after is not None:
        query = query.where(Document.id > int(call.page.after))
    documents = call.dbsession.scalars(query.order_by(Document.id).limit(call.page.fetch))
    return [document_item(call, document) for document in documents]


def upload_document(call):
    settings = call.request.registry[SETTINGS_KEY]
    upload = call.request.POST.get("file")
    kind = (call.body or {}).get("kind") or "other"
    try:
        if upload is None or not hasattr(upload, "file"):
            raise FileRefused(_("Send the document as the file part of a multipart/form-data "
                                "body, with a file name."))
        data, facts = take_upload(upload.file, settings.max_file_size, settings.max_pages,
                                  call.localizer.locale_name)
    except FileRefused as refused:
        raise ApiProblem("file-too-large" if refused.too_large else "document-refused",
                         refused.message, status=413 if refused.too_large else 400,
                         title=REFUSED) from None
    work = call.work()
    creator = call.token.created_by
    document = add_document(call.dbsession, call.company.id,
                            creator.id if creator is not None else None, upload.filename, kind,
                            data, facts, work.now())
    blob_store(call.request, call.company).put(document.blob_key, data, facts.content_type)
    work.enqueue(JOB, {"document_id": document.id}, dedupe_key=dedupe_key(document.id))
    work.audit("ocr.document_uploaded", company=call.company,
               target=f"document:{document.id}", kind=kind, pages=facts.page_count,
               size=document.size)
    return document_item(call, document)


def get_document(call):
    return document_item(call, _document(call))


def document_pages(call):
    document = _document(call)
    pages = call.dbsession.scalars(select(Page).where(Page.document_id == document.id)
                                   .order_by(Page.number))
    return {"pages": [{"number": page.number, "width": page.width, "height": page.height,
                       "text": page.text, "confidence": page.confidence,
                       "lines": page.lines or []} for page in pages]}


def document_fields(call):
    document = _document(call)
    return {"fields": [_field_item(field) for field in document.fields]}


def correct_field(call):
    document = _document(call)
    work = call.work()
    creator = call.token.created_by
    field = correct_field_value(call.dbsession, document, call.path["field_name"],
                                call.body["value"].strip(),
                                creator.id if creator is not None else None, work.now())
    work.audit("ocr.field_corrected", company=call.company, target=f"document:{document.id}",
               field=field.name)
    return _field_item(field)


def delete_document(call):
    document = _document(call)
    work = call.work()
    work.audit("ocr.document_deleted", company=call.company, target=f"document:{document.id}",
               filename=document.filename)
    call.dbsession.delete(document)
    call.dbsession.flush()
    blob_store(call.request, call.company).delete_prefix(document.blob_prefix)
    return None


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def add_operations(api) -> None:
    api.add_scope("documents:read", _("Read the company's documents, their text and key fields"))
    api.add_scope("documents:write", _("Upload and delete documents, correct their key fields"))
    api.add_schema("Document", DOCUMENT)
    api.add_schema("DocumentPage", PAGE)
    api.add_schema("DocumentPages", PAGES)
    api.add_schema("DocumentField", FIELD)
    api.add_schema("DocumentFields", FIELDS_LIST)
    api.add_schema("DocumentFieldValue", FIELD_VALUE)
    api.add_schema("DocumentUpload", UPLOAD)
    common = {"module": MODULE_KEY, "tags": TAGS}
    api.add_list("/documents", list_documents, operation_id="listDocuments",
                 scope="documents:read", summary=_("The company's documents, oldest first"),
                 item="Document", parameters=FILTERS,
                 columns=("id", "filename", "kind", "content_type", "size", "page_count",
                          "status", "reason", "reason_text", "engine", "confidence",
                          "created_at", "read_at"), **common)
    document_link = {"getDocument": {"operationId": "getDocument",
                                     "parameters": {"document_id": "$response.body#/id"}}}
    api.add_operation("post", "/documents", upload_document, operation_id="uploadDocument",
                      scope="documents:write", status=201,
                      summary=_("Upload a document to be read"),
                      description=_("A PDF, PNG, JPEG or TIFF file, checked for its type, "
                                    "size and number of pages before it is kept; it is read "
                                    "in the background: follow its status."),
                      request_body=_ref("DocumentUpload"),
                      request_media_type="multipart/form-data",
                      response=_ref("Document"), links=document_link, **common)
    api.add_operation("get", "/documents/{document_id}", get_document,
                      operation_id="getDocument", scope="documents:read",
                      summary=_("A document and its status"), parameters=DOCUMENT_ID,
                      response=_ref("Document"), **common)
    api.add_operation("get", "/documents/{document_id}/pages", document_pages,
                      operation_id="getDocumentPages", scope="documents:read",
                      summary=_("The text read on each page, with its lines and words"),
                      parameters=DOCUMENT_ID, response=_ref("DocumentPages"), **common)
    api.add_operation("get", "/documents/{document_id}/fields", document_fields,
                      operation_id="getDocumentFields", scope="documents:read",
                      summary=_("The key fields read from a document"),
                      parameters=DOCUMENT_ID, response=_ref("DocumentFields"), **common)
    api.add_operation("put", "/documents/{document_id}/fields/{field_name}", correct_field,
                      operation_id="correctDocumentField", scope="documents:write",
                      summary=_("Correct a key field; the correction wins over every later "
                                "reading"),
                      parameters=[*DOCUMENT_ID, FIELD_NAME], request_body=_ref(
                          "DocumentFieldValue"), response=_ref("DocumentField"), **common)
    api.add_operation("delete", "/documents/{document_id}", delete_document,
                      operation_id="deleteDocument", scope="documents:write", status=204,
                      summary=_("Delete a document, its pages, fields and search entry"),
                      parameters=DOCUMENT_ID, **common)
