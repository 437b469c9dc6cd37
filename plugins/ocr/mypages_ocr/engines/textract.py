"""AWS Textract, in the region ``mypages_ocr.textract.region`` (not offered in eu-north-1).

A one-page document goes to the synchronous calls as bytes (at most 10 MB), so nothing of
it is stored in the Textract region. A document of several pages is copied to the staging
bucket (which must be in the Textract region), read by the asynchronous Start/Get pair and
deleted from the bucket again, whatever happened. Every page of results is collected by
following ``NextToken`` (boto3 has no paginator for these calls).

Contracts are read with AnalyzeDocument's Queries (the key fields asked for by name),
invoices with AnalyzeExpense as well as text detection; everything else with text
detection only.
"""
from __future__ import annotations

import logging
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mypages_ocr.engines import (Engine, FoundField, Line, OcrFailed, PageReading, Reading,
                                 Source, Word)
from mypages_ocr.fields import CURRENCIES, date, identifier, money, org_number, percent, words
from mypages_ocr.i18n import _

log = logging.getLogger(__name__)

SYNC_LIMIT = 10 * 1024 * 1024
#: the fields asked of a contract (AnalyzeDocument Queries), as the question and its alias
QUERIES = {
    "counterparty": "Vem är leasegivare eller leverantör?",
    "org_number": "Vilket är organisationsnumret?",
    "contract_number": "Vilket är avtalsnumret?",
    "object": "Vad är leasingobjektet?",
    "start_date": "Vilket är startdatum?",
    "end_date": "Vilket är slutdatum?",
    "monthly_cost": "Vilken är månadskostnaden?",
    "total": "Vilken är den totala kostnaden?",
    "interest_rate": "Vilken är räntan?",
}
#: AnalyzeExpense's summary field types and the fields they fill
EXPENSE_TYPES = {
    "INVOICE_RECEIPT_ID": "invoice_number", "INVOICE_RECEIPT_DATE": "start_date",
    "DUE_DATE": "end_date", "TOTAL": "total", "AMOUNT_DUE": "total",
    "VENDOR_NAME": "counterparty", "TAX_PAYER_ID": "org_number",
}
PARSERS = {"org_number": org_number, "contract_number": identifier,
           "invoice_number": identifier, "start_date": date, "end_date": date,
           "monthly_cost": money, "total": money, "interest_rate": percent,
           "counterparty": words, "object": words}
#: errors about the document itself: trying again does not help
PERMANENT = {"UnsupportedDocumentException": "unsupported",
             "BadDocumentException": "unreadable",
             "DocumentTooLargeException": "too-large",
             "InvalidParameterException": "service-refused",
             "AccessDeniedException": "service-refused",
             "InvalidS3ObjectException": "service-refused"}
S3_HINT = ("Textract cannot read the staging object: the staging bucket %s must be in the "
           "Textract region %s, and the role must let Textract read it (s3:GetObject); "
           "Textract is not offered in eu-north-1")


def _box(geometry) -> tuple[float, float, float, float]:
    box = (geometry or {}).get("BoundingBox") or {}
    return (box.get("Left", 0.0), box.get("Top", 0.0), box.get("Width", 0.0),
            box.get("Height", 0.0))


def pages_of(blocks: list[dict], page_count: int = 1) -> list[PageReading]:
    """Textract's LINE and WORD blocks as pages of lines of words."""
    by_id = {block["Id"]: block for block in blocks}
    pages: dict[int, PageReading] = {}
    for number in range(1, page_count + 1):
        pages[number] = PageReading(number)
    for block in blocks:
        if block["BlockType"] != "LINE":
            continue
        number = block.get("Page", 1)
        child_ids = [child for relation in block.get("Relationships", [])
                     if relation["Type"] == "CHILD" for child in relation["Ids"]]
        line_words = [Word(by_id[child]["Text"], by_id[child].get("Confidence", 0.0),
                           _box(by_id[child].get("Geometry")))
                      for child in child_ids if by_id.get(child, {}).get("BlockType") == "WORD"]
        pages.setdefault(number, PageReading(number)).lines.append(
            Line(block.get("Text", ""), block.get("Confidence", 0.0),
                 _box(block.get("Geometry")), line_words))
    return [pages[number] for number in sorted(pages)]


def _field(name: str, text: str, confidence: float, page, source: str) -> list[FoundField]:
    parsed = PARSERS[name](text or "")
    if not parsed:
        return []
    found = [FoundField(name, parsed[0], confidence * parsed[1], page, source)]
    if len(parsed) > 2 and parsed[2]:
        found.append(FoundField("currency", CURRENCIES.get(parsed[2].lower(),
                                                           parsed[2].upper()),
                                confidence, page, source))
    return found


def query_fields(blocks: list[dict]) -> list[FoundField]:
    """The answers to :data:`QUERIES` (QUERY -ANSWER-> QUERY_RESULT blocks)."""
    by_id = {block["Id"]: block for block in blocks}
    found: dict[str, FoundField] = {}
    for block in blocks:
        if block["BlockType"] != "QUERY":
            continue
        alias = (block.get("Query") or {}).get("Alias", "")
        if alias not in PARSERS:
            continue
        for relation in block.get("Relationships", []):
            if relation["Type"] != "ANSWER":
                continue
            for answer_id in relation["Ids"]:
                answer = by_id.get(answer_id, {})
                for field in _field(alias, answer.get("Text", ""), answer.get("Confidence", 0.0),
                                    answer.get("Page", block.get("Page")), "query"):
                    if field.name not in found or found[field.name].confidence < field.confidence:
                        found[field.name] = field
    return list(found.values())


def expense_fields(documents: list[dict]) -> list[FoundField]:
    """AnalyzeExpense's summary fields, as key fields."""
    found: dict[str, FoundField] = {}
    for document in documents:
        for summary in document.get("SummaryFields", []):
            name = EXPENSE_TYPES.get((summary.get("Type") or {}).get("Text", ""))
            value = summary.get("ValueDetection") or {}
            if name is None or name in found:
                continue
            for field in _field(name, value.get("Text", ""), value.get("Confidence", 0.0),
                                summary.get("PageNumber"), "expense"):
                found.setdefault(field.name, field)
            code = ((summary.get("Currency") or {}).get("Code"))
            if code and "currency" not in found:
                found["currency"] = FoundField("currency", code.upper(),
                                               value.get("Confidence", 0.0),
                                               summary.get("PageNumber"), "expense")
    return list(found.values())


class TextractEngine(Engine):
    name = "textract"

    def __init__(self, client, s3_client=None, staging_bucket: str | None = None,
                 region: str = "eu-west-1", poll_seconds: float = 5.0,
                 poll_timeout: float = 900.0):
        self.client = client
        self.s3 = s3_client
        self.staging_bucket = staging_bucket
        self.has_credentials = True
        self.region = region
        self.poll_seconds = poll_seconds
        self.poll_timeout = poll_timeout

    def missing(self) -> list:
        lacking = []
        if not self.has_credentials:
            lacking.append(_("No AWS credentials were found for Textract (an instance role, "
                             "or the AWS_* environment variables)."))
        if not self.staging_bucket:
            lacking.append(_("mypages_ocr.textract.staging_bucket is not set: documents of "
                             "several pages cannot be read."))
        return lacking

    @classmethod
    def from_settings(cls, settings) -> "TextractEngine":
        config = Config(retries={"mode": "standard", "max_attempts": 5})
        session = boto3.session.Session()
        client = session.client("textract", region_name=settings.textract_region,
                                endpoint_url=settings.textract_endpoint_url, config=config)
        s3 = session.client("s3", region_name=settings.textract_region,
                            endpoint_url=settings.staging_endpoint_url, config=config)
        engine = cls(client, s3, settings.staging_bucket, settings.textract_region,
                     settings.poll_seconds, settings.poll_timeout)
        # found once, as the clients found them: the health check asks nobody
        engine.has_credentials = session.get_credentials() is not None
        return engine

    def read(self, source: Source) -> Reading:
        try:
            if source.page_count == 1 and len(source.data) <= SYNC_LIMIT:
                return self._read_sync(source)
            return self._read_async(source)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "InvalidS3ObjectException":
                log.error(S3_HINT, self.staging_bucket, self.region)
            if code in PERMANENT:
                raise OcrFailed(PERMANENT[code], f"Textract: {code}") from None
            raise  # throttling, a service error: the job queue tries again later

    # -- one page, as bytes -------------------------------------------------------

    def _read_sync(self, source: Source) -> Reading:
        document = {"Bytes": source.data}
        if source.kind == "contract":
            answer = self.client.analyze_document(
                Document=document, FeatureTypes=["QUERIES"],
                QueriesConfig={"Queries": [{"Text": text, "Alias": alias, "Pages": ["*"]}
                                           for alias, text in QUERIES.items()]})
            blocks = answer["Blocks"]
            return Reading(pages_of(blocks), query_fields(blocks))
        blocks = self.client.detect_document_text(Document=document)["Blocks"]
        fields = []
        if source.kind == "invoice":
            fields = expense_fields(self.client.analyze_expense(
                Document=document)["ExpenseDocuments"])
        return Reading(pages_of(blocks), fields)

    # -- several pages, through the staging bucket -----------------------------------

    def _read_async(self, source: Source) -> Reading:
        if not self.staging_bucket:
            raise OcrFailed("service-refused", "mypages_ocr.textract.staging_bucket is not set")
        key = f"mypages-ocr/{uuid.uuid4().hex}"
        self.s3.put_object(Bucket=self.staging_bucket, Key=key, Body=source.data,
                           ServerSideEncryption="AES256")
        try:
            location = {"S3Object": {"Bucket": self.staging_bucket, "Name": key}}
            if source.kind == "contract":
                job = self.client.start_document_analysis(
                    DocumentLocation=location, FeatureTypes=["QUERIES"],
                    QueriesConfig={"Queries": [{"Text": text, "Alias": alias, "Pages": ["*"]}
                                               for alias, text in QUERIES.items()]})
                blocks = self._collect(self.client.get_document_analysis, job["JobId"], "Blocks")
                return Reading(pages_of(blocks, source.page_count), query_fields(blocks))
            job = self.client.start_document_text_detection(DocumentLocation=location)
            blocks = self._collect(self.client.get_document_text_detection, job["JobId"],
                                   "Blocks")
            fields = []
            if source.kind == "invoice":
                job = self.client.start_expense_analysis(DocumentLocation=location)
                fields = expense_fields(self._collect(self.client.get_expense_analysis,
                                                      job["JobId"], "ExpenseDocuments"))
            return Reading(pages_of(blocks, source.page_count), fields)
        finally:
            self.s3.delete_object(Bucket=self.staging_bucket, Key=key)

    def _collect(self, get, job_id: str, key: str) -> list[dict]:
        """Every item of the finished job, following NextToken to the last page."""
        deadline = time.monotonic() + self.poll_timeout
        while True:
            answer = get(JobId=job_id, MaxResults=1000)
            status = answer["JobStatus"]
            if status != "IN_PROGRESS":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"Textract job {job_id} still in progress")
            time.sleep(self.poll_seconds)
        if status == "FAILED":
            raise OcrFailed("service-refused", f"Textract job failed: {answer.get('StatusMessage')}")
        if status == "PARTIAL_SUCCESS":
            log.warning("Textract job %s read the document in part: %s", job_id,
                        answer.get("Warnings"))
        items = list(answer.get(key, []))
        while token := answer.get("NextToken"):
            answer = get(JobId=job_id, MaxResults=1000, NextToken=token)
            items.extend(answer.get(key, []))
        return items

