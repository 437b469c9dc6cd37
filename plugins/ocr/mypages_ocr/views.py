"""The pages of the OCR module. Every document is looked up within the request's company:
another company's document id is "Page not found", the same as one that does not exist."""
from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from mypages.toolkit import BlobNotFound, blob_store, format_number, utcnow

from mypages_ocr import MODULE_KEY, search
from mypages_ocr.fields import FIELDS, CONTRACT_FIELDS, INVOICE_FIELDS
from mypages_ocr.files import ACCEPTED, FileRefused, megabytes, take_upload
from mypages_ocr.i18n import _
from mypages_ocr.models import (DONE, FAILED, KINDS, STATUSES, Document, add_document,
                                correct_field_value, filtered)
from mypages_ocr.reading import SETTINGS_KEY, enqueue_reading, reason_text

TEMPLATES = "mypages_ocr:templates/"
KIND_TITLES = {"contract": _("Leasing contract"), "invoice": _("Invoice"), "other": _("Other")}
STATUS_TITLES = {"queued": _("Queued"), "processing": _("Being read"), "done": _("Read"),
                 "failed": _("Failed")}


def _document(request) -> Document:
    document = request.dbsession.scalars(select(Document).where(
        Document.id == int(request.matchdict["document_id"]),
        Document.company_id == request.company.id)).first()
    if document is None:
        raise HTTPNotFound()
    return document


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(request) -> dict:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    return {"kind": kind if kind in KINDS else "", "status": status if status in STATUSES else "",
            "since": _date(request.GET.get("since", "")),
            "until": _date(request.GET.get("until", ""))}


def list_page(request, error=None, kind="other"):
    filters = _filters(request)
    documents = request.dbsession.scalars(filtered(
        select(Document).where(Document.company_id == request.company.id), filters)
        .order_by(Document.created_at.desc(), Document.id.desc()).limit(500))
    settings = request.registry[SETTINGS_KEY]
    return {"documents": list(documents), "filters": filters, "error": error, "kind": kind,
            "kinds": KIND_TITLES, "statuses": STATUS_TITLES, "reason_text": reason_text,
            "max_mb": format_number(megabytes(settings.max_file_size), request.locale_name),
            "max_pages": settings.max_pages,
            "accept": ",".join(f".{ext}" for ext in ACCEPTED.values()) + ",.jpeg,.tiff"}


@view_config(route_name="ocr_documents", module=MODULE_KEY, permission="company.view",
             request_method="GET", renderer=TEMPLATES + "documents.jinja2")
def documents(request):
    return list_page(request)


@view_config(route_name="ocr_documents", module=MODULE_KEY, permission="company.view",
             request_method="POST", renderer=TEMPLATES + "documents.jinja2", accept_files=True)
def upload(request):
    settings = request.registry[SETTINGS_KEY]
    kind = request.POST.get("kind", "other")
    kind = kind if kind in KINDS else "other"
    upload = request.POST.get("file")
    try:
        if upload is None or not hasattr(upload, "file"):
            raise FileRefused(_("Choose a file to upload."))
        data, facts = take_upload(upload.file, settings.max_file_size, settings.max_pages,
                                  request.locale_name)
    except FileRefused as refused:
        request.response.status = 400
        return list_page(request, refused.message, kind)
    document = add_document(request.dbsession, request.company.id, request.user.id,
                            upload.filename, kind, data, facts, utcnow())
    blob_store(request, request.company).put(document.blob_key, data, facts.content_type)
    enqueue_reading(request, document)
    request.audit("ocr.document_uploaded", target=f"document:{document.id}", kind=kind,
                  pages=facts.page_count, size=document.size)
    return HTTPSeeOther(request.route_url("ocr_documents", company_id=request.company.id))


def _status(request, document) -> dict:
    reason = reason_text(document.reason)
    return {"status": document.status,
            "title": request.translate(STATUS_TITLES[document.status]),
            "reason": request.translate(reason) if reason else "",
            "done": document.status in (DONE, FAILED),
            "url": request.route_path("ocr_document", company_id=request.company.id,
                                      document_id=document.id)}


@view_config(route_name="ocr_status", module=MODULE_KEY, permission="company.view",
             request_method="GET", renderer="json")
def status(request):
    return _status(request, _document(request))


@view_config(route_name="ocr_document", module=MODULE_KEY, permission="company.view",
             request_method="GET", renderer=TEMPLATES + "document.jinja2")
def document_view(request):
    document = _document(request)
    request.audit("ocr.document_viewed", target=f"document:{document.id}")
    return document_page(request, document)


def document_page(request, document) -> dict:
    names = (CONTRACT_FIELDS if document.kind == "contract" else INVOICE_FIELDS
             if document.kind == "invoice" else tuple(FIELDS))
    fields = {field.name: field for field in document.fields}
    query = request.GET.get("q", "")[:200]
    return {"document": document, "pages": document.pages, "field_names": names,
            "fields": fields, "field_titles": FIELDS, "kinds": KIND_TITLES,
            "statuses": STATUS_TITLES, "reason_text": reason_text,
            "status": _status(request, document), "q": query,
            "hits": search.terms(query), "error": None}


@view_config(route_name="ocr_download", module=MODULE_KEY, permission="company.view",
             request_method="GET")
def download(request):
    document = _document(request)
    try:
        stream = blob_store(request, request.company).stream(document.blob_key)
    except BlobNotFound:
        raise HTTPNotFound() from None
    request.audit("ocr.document_downloaded", target=f"document:{document.id}")
    response = Response(app_iter=stream, content_type=document.content_type,
                        content_length=stream.info.size)
    response.content_disposition = f'attachment; filename="{document.filename}"'
    return response


@view_config(route_name="ocr_page_image", module=MODULE_KEY, permission="company.view",
             request_method="GET")
def page_image(request):
    document = _document(request)
    number = int(request.matchdict["page_id"])
    if not 1 <= number <= document.page_count:
        raise HTTPNotFound()
    try:
        stream = blob_store(request, request.company).stream(
            f"documents/{document.id}/page-{number}.png")
    except BlobNotFound:
        raise HTTPNotFound() from None
    return Response(app_iter=stream, content_type="image/png", content_length=stream.info.size)


@view_config(route_name="ocr_field", module=MODULE_KEY, permission="company.view",
             request_method="POST", renderer=TEMPLATES + "document.jinja2")
def correct_field(request):
    document = _document(request)
    name = request.matchdict["field_name"]
    if name not in FIELDS:
        raise HTTPNotFound()
    value = request.POST.get("value", "").strip()
    back = request.route_url("ocr_document", company_id=request.company.id,
                             document_id=document.id)
    if len(value) > 500:
        page = document_page(request, document)
        request.response.status = 400
        return {**page, "error": _("A field can hold at most 500 characters.")}
    correct_field_value(request.dbsession, document, name, value, request.user.id, utcnow())
    request.audit("ocr.field_corrected", target=f"document:{document.id}", field=name)
    return HTTPSeeOther(back)


@view_config(route_name="ocr_reread", module=MODULE_KEY, permission="company.view",
             request_method="POST")
def read_again(request):
    document = _document(request)
    if document.status in (DONE, FAILED):
        document.status, document.reason, document.attempts = "queued", None, 0
    # while it is queued or being read, the de-duplication key keeps it to one job
    enqueue_reading(request, document)
    request.audit("ocr.document_queued_again", target=f"document:{document.id}")
    return HTTPSeeOther(request.route_url("ocr_document", company_id=request.company.id,
                                          document_id=document.id))


@view_config(route_name="ocr_delete", module=MODULE_KEY, permission="company.view",
             request_method="POST")
def delete_document(request):
    document = _document(request)
    request.audit("ocr.document_deleted", target=f"document:{document.id}",
                  filename=document.filename)
    request.dbsession.delete(document)
    request.dbsession.flush()
    blob_store(request, request.company).delete_prefix(document.blob_prefix)
    return HTTPSeeOther(request.route_url("ocr_documents", company_id=request.company.id))


@view_config(route_name="ocr_search", module=MODULE_KEY, permission="company.view",
             request_method="GET", renderer=TEMPLATES + "search.jinja2")
def search_view(request):
    filters = _filters(request)
    query = request.GET.get("q", "").strip()[:200]
    results = search.search(request.dbsession, request.company.id, query, kind=filters["kind"],
                            since=filters["since"], until=filters["until"]) if query else []
    return {"q": query, "results": results, "filters": filters, "kinds": KIND_TITLES}
