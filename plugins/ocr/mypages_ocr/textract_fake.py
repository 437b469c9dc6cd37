"""A stand-in for AWS Textract that speaks its wire protocol: JSON 1.1 over HTTP, the
operation named by the ``X-Amz-Target`` header, errors as ``{"__type", "message"}`` with
status 400, so boto3 talks to it by ``endpoint_url`` as to AWS.

It answers with real Blocks for the document sent: it reads the document with Tesseract
(PAGE, LINE and WORD blocks with their geometry and confidence), answers Queries and
AnalyzeExpense from the key fields of that text, and serves the asynchronous Start/Get
pairs IN_PROGRESS first and then in several pages joined by ``NextToken``. Documents named
by ``S3Object`` are fetched from an S3 service (moto's server in the tests). The documented
errors: UnsupportedDocumentException, BadDocumentException, DocumentTooLargeException,
InvalidParameterException, InvalidS3ObjectException, InvalidJobIdException.

For tests and development only; never mounted in production.
"""
from __future__ import annotations

import base64
import json
import threading
import uuid

import boto3
from botocore.exceptions import ClientError

from mypages_ocr.engines.tesseract import read_image
from mypages_ocr.fields import RULES, from_text
from mypages_ocr.files import FileRefused, examine, page_images

SYNC_LIMIT = 10 * 1024 * 1024
ASYNC_LIMIT = 500 * 1024 * 1024
#: AnalyzeExpense's summary field types, by the key field that answers them
EXPENSE_TYPES = {"invoice_number": "INVOICE_RECEIPT_ID", "start_date": "INVOICE_RECEIPT_DATE",
                 "end_date": "DUE_DATE", "total": "TOTAL", "counterparty": "VENDOR_NAME",
                 "org_number": "TAX_PAYER_ID"}
OPERATIONS = {
    "DetectDocumentText", "AnalyzeDocument", "AnalyzeExpense",
    "StartDocumentTextDetection", "GetDocumentTextDetection",
    "StartDocumentAnalysis", "GetDocumentAnalysis",
    "StartExpenseAnalysis", "GetExpenseAnalysis"}


class TextractError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code, self.message = code, message


def _geometry(box) -> dict:
    left, top, width, height = box
    return {"BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
            "Polygon": [{"X": left, "Y": top}, {"X": left + width, "Y": top},
                        {"X": left + width, "Y": top + height},
                        {"X": left, "Y": top + height}],
            "RotationAngle": 0}


class FakeTextract:
    """The WSGI application. ``in_progress``: how many Get calls of a job answer IN_PROGRESS
    first; ``page_size``: at most so many Blocks (or expense documents) per Get answer;
    ``calls`` records the operations asked for, in order."""

    def __init__(self, s3_endpoint_url: str | None = None, region: str = "eu-west-1",
                 in_progress: int = 1, page_size: int = 25, dpi: int = 150):
        self.s3_endpoint_url = s3_endpoint_url
        self.region = region
        self.in_progress = in_progress
        self.page_size = page_size
        self.dpi = dpi
        self.calls: list[str] = []
        self.jobs: dict[str, dict] = {}
        self._lock = threading.Lock()

    # -- the wire ----------------------------------------------------------------

    def __call__(self, environ, start_response):
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if environ.get("REQUEST_METHOD") != "POST" or operation not in OPERATIONS:
                raise TextractError("UnknownOperationException", f"unknown operation {operation}")
            if "Credential=" not in environ.get("HTTP_AUTHORIZATION", ""):
                raise TextractError("MissingAuthenticationTokenException",
                                    "Missing Authentication Token")
            with self._lock:
                self.calls.append(operation)
            answer, status = getattr(self, operation)(body), "200 OK"
        except TextractError as error:
            answer, status = {"__type": error.code, "message": error.message}, "400 Bad Request"
        except (ValueError, KeyError) as error:
            answer = {"__type": "InvalidParameterException", "message": str(error)}
            status = "400 Bad Request"
        data = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/x-amz-json-1.1"),
                                ("Content-Length", str(len(data))),
                                ("x-amzn-RequestId", str(uuid.uuid4()))])
        return [data]

    # -- documents ---------------------------------------------------------------

    def _document(self, body: dict, sync: bool) -> bytes:
        document = body.get("Document") if sync else body.get("DocumentLocation")
        if not isinstance(document, dict):
            raise TextractError("InvalidParameterException", "Document is required")
        if sync and "Bytes" in document:
            data = base64.b64decode(document["Bytes"])
        else:
            location = document.get("S3Object") or {}
            data = self._s3_object(location.get("Bucket", ""), location.get("Name", ""))
        limit = SYNC_LIMIT if sync else ASYNC_LIMIT
        if len(data) > limit:
            raise TextractError("DocumentTooLargeException",
                                "S3 object size is more than the maximum limit")
        return data

    def _s3_object(self, bucket: str, name: str) -> bytes:
        if not bucket or not name or not self.s3_endpoint_url:
            raise TextractError("InvalidS3ObjectException", "Unable to get object metadata from S3. "
                                "Check object key, region and/or access permissions.")
        client = boto3.client("s3", region_name=self.region, endpoint_url=self.s3_endpoint_url)
        try:
            location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
            if (location or "us-east-1") != self.region:
                raise TextractError("InvalidS3ObjectException",
                                    "Unable to get object metadata from S3. Check object key, "
                                    "region and/or access permissions.")
            return client.get_object(Bucket=bucket, Key=name)["Body"].read()
        except ClientError:
            raise TextractError("InvalidS3ObjectException", "Unable to get object metadata from "
                                "S3. Check object key, region and/or access permissions.") from None

    def _pages(self, data: bytes, sync: bool):
        try:
            facts = examine(data)
        except FileRefused:
            if data[:4] == b"%PDF" or data[:2] in (b"\xff\xd8", b"\x89P"):
                raise TextractError("BadDocumentException",
                                    "Request has invalid Document") from None
            raise TextractError("UnsupportedDocumentException",
                                "Request has unsupported document format") from None
        if sync and facts.page_count > 1:
            raise TextractError("UnsupportedDocumentException",
                                "Request has unsupported document format")
        readings = []
        for number, image in enumerate(page_images(data, facts.content_type, self.dpi), start=1):
            readings.append(read_image(image, number))
        return readings

    @staticmethod
    def _blocks(readings) -> list[dict]:
        blocks = []
        for page in readings:
            page_block = {"BlockType": "PAGE", "Id": str(uuid.uuid4()), "Page": page.number,
                          "Geometry": _geometry((0.0, 0.0, 1.0, 1.0)),
                          "Relationships": [{"Type": "CHILD", "Ids": []}]}
            blocks.append(page_block)
            for line in page.lines:
                word_blocks = [{"BlockType": "WORD", "Id": str(uuid.uuid4()), "Page": page.number,
                                "Text": word.text, "TextType": "PRINTED",
                                "Confidence": word.confidence, "Geometry": _geometry(word.box)}
                               for word in line.words]
                line_block = {"BlockType": "LINE", "Id": str(uuid.uuid4()), "Page": page.number,
                              "Text": line.text, "Confidence": line.confidence,
                              "Geometry": _geometry(line.box),
                              "Relationships": [{"Type": "CHILD",
                                                 "Ids": [w["Id"] for w in word_blocks]}]}
                page_block["Relationships"][0]["Ids"].append(line_block["Id"])
                blocks.append(line_block)
                blocks.extend(word_blocks)
        return blocks

    @staticmethod
    def _lines(readings):
        return [(page.number, line.text, line.confidence)
                for page in readings for line in page.lines]

    def _queries(self, body: dict, readings, limit: int) -> list[dict]:
        if "QUERIES" not in (body.get("FeatureTypes") or []):
            raise TextractError("InvalidParameterException", "FeatureTypes is required")
        queries = (body.get("QueriesConfig") or {}).get("Queries") or []
        if not queries or len(queries) > limit:
            raise TextractError("InvalidParameterException",
                                f"QueriesConfig must have 1 to {limit} queries")
        found = {field.name: field for field in from_text(self._lines(readings), RULES)}
        blocks = []
        for query in queries:
            alias = query.get("Alias", "")
            block = {"BlockType": "QUERY", "Id": str(uuid.uuid4()), "Page": 1,
                     "Query": {"Text": query.get("Text", ""), "Alias": alias}}
            field = found.get(alias)
            if field is not None:
                answer = {"BlockType": "QUERY_RESULT", "Id": str(uuid.uuid4()),
                          "Page": field.page, "Text": field.value,
                          "Confidence": field.confidence}
                block["Relationships"] = [{"Type": "ANSWER", "Ids": [answer["Id"]]}]
                blocks.extend([block, answer])
            else:
                blocks.append(block)
        return blocks

    def _expense(self, readings) -> list[dict]:
        documents = []
        for index, page in enumerate(readings, start=1):
            fields = from_text(self._lines([page]), RULES)
            currency = next((f.value for f in fields if f.name == "currency"), None)
            summary = []
            for field in fields:
                kind = EXPENSE_TYPES.get(field.name)
                if kind is None:
                    continue
                item = {"Type": {"Text": kind, "Confidence": 99.0},
                        "ValueDetection": {"Text": field.value, "Confidence": field.confidence,
                                           "Geometry": _geometry((0, 0, 0, 0))},
                        "PageNumber": page.number}
                if field.name == "total" and currency:
                    item["Currency"] = {"Code": currency, "Confidence": field.confidence}
                summary.append(item)
            documents.append({"ExpenseIndex": index, "SummaryFields": summary,
                              "LineItemGroups": [], "Blocks": self._blocks([page])})
        return documents

    # -- synchronous operations ----------------------------------------------------

    def DetectDocumentText(self, body):  # noqa: N802 (Textract's operation names)
        readings = self._pages(self._document(body, sync=True), sync=True)
        return {"DocumentMetadata": {"Pages": len(readings)},
                "DetectDocumentTextModelVersion": "1.0", "Blocks": self._blocks(readings)}

    def AnalyzeDocument(self, body):  # noqa: N802
        self._queries(body, [], 15)  # a bad request is refused before the document is read
        readings = self._pages(self._document(body, sync=True), sync=True)
        return {"DocumentMetadata": {"Pages": len(readings)}, "AnalyzeDocumentModelVersion": "1.0",
                "Blocks": self._blocks(readings) + self._queries(body, readings, 15)}

    def AnalyzeExpense(self, body):  # noqa: N802
        readings = self._pages(self._document(body, sync=True), sync=True)
        return {"DocumentMetadata": {"Pages": len(readings)},
                "ExpenseDocuments": self._expense(readings)}

    # -- asynchronous pairs ----------------------------------------------------------

    def _start(self, kind: str, items_key: str, make) -> dict:
        job_id = uuid.uuid4().hex
        with self._lock:
            self.jobs[job_id] = {"kind": kind, "key": items_key, "make": make,
                                 "waiting": self.in_progress}
        return {"JobId": job_id}

    def _get(self, kind: str, body: dict) -> dict:
        job = self.jobs.get(body.get("JobId", ""))
        if job is None or job["kind"] != kind:
            raise TextractError("InvalidJobIdException", "An invalid job identifier was passed.")
        with self._lock:
            if job["waiting"] > 0:
                job["waiting"] -= 1
                return {"JobStatus": "IN_PROGRESS"}
            if "result" not in job:
                try:
                    job["result"] = job["make"]()
                except TextractError as error:
                    job["result"] = error
        result = job["result"]
        if isinstance(result, TextractError):
            return {"JobStatus": "FAILED", "StatusMessage": result.message}
        items, pages = result
        size = min(int(body.get("MaxResults") or 1000), self.page_size)
        start = int(body.get("NextToken") or 0)
        answer = {"JobStatus": "SUCCEEDED", "DocumentMetadata": {"Pages": pages},
                  job["key"]: items[start:start + size]}
        if start + size < len(items):
            answer["NextToken"] = str(start + size)
        return answer

    def StartDocumentTextDetection(self, body):  # noqa: N802
        data = self._document(body, sync=False)

        def make():
            readings = self._pages(data, sync=False)
            return self._blocks(readings), len(readings)
        return self._start("text", "Blocks", make)

    def GetDocumentTextDetection(self, body):  # noqa: N802
        return {**self._get("text", body), "DetectDocumentTextModelVersion": "1.0"}

    def StartDocumentAnalysis(self, body):  # noqa: N802
        data = self._document(body, sync=False)

        def make():
            readings = self._pages(data, sync=False)
            return self._blocks(readings) + self._queries(body, readings, 30), len(readings)
        self._queries(body, [], 30)  # a bad request is refused at the start
        return self._start("analysis", "Blocks", make)

    def GetDocumentAnalysis(self, body):  # noqa: N802
        return {**self._get("analysis", body), "AnalyzeDocumentModelVersion": "1.0"}

    def StartExpenseAnalysis(self, body):  # noqa: N802
        data = self._document(body, sync=False)

        def make():
            readings = self._pages(data, sync=False)
            return self._expense(readings), len(readings)
        return self._start("expense", "ExpenseDocuments", make)

    def GetExpenseAnalysis(self, body):  # noqa: N802
        return self._get("expense", body)

