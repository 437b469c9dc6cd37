"""OCR: leasing contracts and invoices read by Tesseract on this machine or AWS Textract.

The "OCR" module (10-day trial): a company's members upload PDF, PNG, JPEG and TIFF
documents, which are kept in the company's blob storage and read in the ``ocr`` job queue
(``mypages jobs worker --queue ocr``); the pages' text, the words' positions and the key
fields are kept, and the company searches its documents in Swedish. The engine is chosen by
``mypages_ocr.engine`` (see the operator guide).
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, func, select

from mypages.toolkit import (DashboardCard, MigrationSource, Module, NavigationItem,
                             Price, hookimpl, read_first)

from mypages_ocr import api as ocr_api, demo, health, reading, settings as ocr_settings
from mypages_ocr.data import mypages_company_erase, mypages_company_export  # noqa: F401
from mypages_ocr.engines.tesseract import TesseractEngine
from mypages_ocr.i18n import _, ngettext
from mypages_ocr.models import Document

#: the hookspec version this plugin was written for
mypages_hookspec = "2.4"

MODULE_KEY = "ocr"


@hookimpl
def mypages_modules():
    return [Module(
        key=MODULE_KEY,
        title=_("OCR"),
        description=_("Upload leasing contracts and invoices: their text is read, key "
                      "fields picked out and every document searchable."),
        trial_days=10,
        price=Price(Decimal("490"), "SEK", per=_("per month")),
    )]


@hookimpl
def mypages_api(api):
    ocr_api.add_operations(api)


@hookimpl(trylast=True)  # after the demo company is made
def mypages_demo(context):
    """A leasing contract in the demo company, once (``mypages demo``, development only)."""
    return demo.seed(context)


@hookimpl
def mypages_health_checks(registry, now, dbsession):
    return health.checks(registry, now, dbsession)


@hookimpl
def mypages_migrations():
    return MigrationSource("mypages-ocr", "mypages_ocr:migrations")


@hookimpl
def mypages_jobs():
    return reading.jobs()


@hookimpl
def mypages_navigation(request, company):
    return [NavigationItem(_("Documents"), "ocr_documents",
                           current_on=("ocr_document", "ocr_search"))]


#: how many documents a company has (``company_id``)
DOCUMENTS_OF = select(func.count()).select_from(Document).where(
    Document.company_id == bindparam("company_id"))


@hookimpl
def mypages_dashboard_cards(request, company):
    # the dashboard only reads: no ORM session for it
    count = read_first(request, DOCUMENTS_OF, {"company_id": company.id})[0]
    return [DashboardCard(_("Documents"), ngettext(
        "${num} document uploaded", "${num} documents uploaded", count),
        route_name="ocr_documents")]


def make_engine(settings: ocr_settings.OcrSettings):
    if settings.engine == "textract":
        # boto3 is imported only where Textract is chosen: a Tesseract portal never loads it
        from mypages_ocr.engines.textract import TextractEngine
        return TextractEngine.from_settings(settings)
    return TesseractEngine(settings.languages)


def includeme(config):
    settings = ocr_settings.parse(config.get_settings())
    config.registry[reading.SETTINGS_KEY] = settings
    config.registry[reading.ENGINE_KEY] = make_engine(settings)
    config.add_translation_dirs("mypages_ocr:locale/")
    config.add_static_view("ocr-static", "mypages_ocr:static/", cache_max_age=3600)
    config.add_company_route("ocr_documents", "/documents")
    config.add_company_route("ocr_search", "/documents/search")
    config.add_company_route("ocr_document", "/documents/{document_id}")
    config.add_company_route("ocr_status", "/documents/{document_id}/status")
    config.add_company_route("ocr_download", "/documents/{document_id}/download")
    config.add_company_route("ocr_page_image", "/documents/{document_id}/pages/{page_id}.png")
    config.add_company_route("ocr_field", "/documents/{document_id}/fields/{field_name}")
    config.add_company_route("ocr_reread", "/documents/{document_id}/read-again")
    config.add_company_route("ocr_delete", "/documents/{document_id}/delete")
    config.scan(".views")
