"""The Textract engine against the Textract fake (its JSON protocol over HTTP on loopback)
and the staging bucket in moto's S3 server."""
from __future__ import annotations

import logging

import boto3
import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from mypages.testing.saml import WsgiServer
from mypages_ocr.engines.textract import TextractEngine
from mypages_ocr.models import Document
from mypages_ocr.reading import ENGINE_KEY
from mypages_ocr.settings import OcrSettingError, parse
from mypages_ocr.textract_fake import FakeTextract

from tests.plugins.ocr.conftest import upload
from tests.plugins.ocr.documents import SECOND_PAGE, SWEDISH, Page, document

REGION = "eu-west-1"
STAGING = "ocr-staging"
INVOICE = ["Faktura", "Leverantör: Kontorsmaskiner i Örebro AB", "Org.nr: 556036-0793",
           "Fakturanummer: F-2024-117", "Fakturadatum: 2024-03-01",
           "Förfallodatum: 2024-03-31", "Att betala: 12 450,00 kr"]


@pytest.fixture(scope="session")
def staging_bucket(s3_server):
    client = boto3.client("s3", region_name=REGION, endpoint_url=s3_server.endpoint_url)
    try:
        client.create_bucket(Bucket=STAGING,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


@pytest.fixture(scope="session")
def textract_server(s3_server, staging_bucket):
    fake = FakeTextract(s3_endpoint_url=s3_server.endpoint_url, region=REGION, in_progress=2,
                        page_size=20)
    server = WsgiServer(fake).start()
    server.fake = fake
    yield server
    server.stop()


@pytest.fixture
def textract(app, monkeypatch, textract_server, s3_server):
    """The app reading with Textract (the fake), its staging bucket in moto's S3."""
    textract_server.fake.calls.clear()
    settings = parse({"mypages_ocr.engine": "textract", "mypages_ocr.textract.region": REGION,
                      "mypages_ocr.textract.endpoint_url": textract_server.url,
                      "mypages_ocr.textract.staging_bucket": STAGING,
                      "mypages_ocr.textract.staging_endpoint_url": s3_server.endpoint_url,
                      "mypages_ocr.textract.poll_seconds": "0"})
    engine = TextractEngine.from_settings(settings)
    monkeypatch.setitem(app.registry, ENGINE_KEY, engine)
    return textract_server.fake


def client(textract_server):
    return boto3.client("textract", region_name=REGION, endpoint_url=textract_server.url)


def stored(dbsession) -> Document:
    dbsession.expire_all()
    return dbsession.scalars(select(Document)).one()


def test_a_one_page_invoice_goes_as_bytes_to_text_detection_and_analyze_expense(
        app, testapp, member, dbsession, ocr_worker, textract, staging_bucket):
    upload(testapp, member, document([Page(INVOICE, size=18, width=800)], "png"),
           filename="faktura.png", kind="invoice")
    ocr_worker()
    read = stored(dbsession)
    assert (read.status, read.engine) == ("done", "textract")
    assert textract.calls == ["DetectDocumentText", "AnalyzeExpense"]
    assert "Fakturanummer: F-2024-117" in read.pages[0].text
    word = read.pages[0].lines[0]["words"][0]
    assert word["text"] == "Faktura" and 0 < word["box"][0] < 0.2 and word["confidence"] > 50
    fields = {field.name: (field.value, field.source) for field in read.fields}
    assert fields["invoice_number"] == ("F-2024-117", "expense")
    assert fields["total"] == ("12450.00", "expense")
    assert fields["currency"] == ("SEK", "expense")
    assert fields["end_date"] == ("2024-03-31", "expense")
    assert staging_bucket.list_objects_v2(Bucket=STAGING).get("KeyCount") == 0


def test_several_pages_go_through_the_staging_bucket_and_every_result_page_is_collected(
        app, testapp, member, dbsession, ocr_worker, textract, staging_bucket):
    contract = SWEDISH + ["Avtalsnummer: LA-88812", "Månadskostnad: 3 200 kr"]
    upload(testapp, member, document([Page(contract), Page(SECOND_PAGE)], "pdf"))
    ocr_worker()
    read = stored(dbsession)
    assert read.status == "done"
    gets = [call for call in textract.calls if call == "GetDocumentAnalysis"]
    assert textract.calls[0] == "StartDocumentAnalysis"
    assert len(gets) >= 2 + 3  # IN_PROGRESS twice, then several pages of Blocks
    assert [page.number for page in read.pages] == [1, 2]
    assert read.pages[1].text.splitlines()[-1] == SECOND_PAGE[-1]  # the last Blocks too
    fields = {field.name: (field.value, field.source) for field in read.fields}
    assert fields["contract_number"] == ("LA-88812", "query")
    assert fields["monthly_cost"] == ("3200.00", "query")
    # the copy in the Textract region is removed again
    assert staging_bucket.list_objects_v2(Bucket=STAGING).get("KeyCount") == 0


def test_a_staging_bucket_textract_cannot_read_fails_the_document_with_the_operators_hint(
        app, testapp, member, dbsession, ocr_worker, textract, s3_server, caplog, monkeypatch):
    # a bucket in the storage's region, not Textract's
    other = boto3.client("s3", region_name="eu-north-1", endpoint_url=s3_server.endpoint_url)
    try:
        other.create_bucket(Bucket="ocr-wrong-region",
                            CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    except other.exceptions.BucketAlreadyOwnedByYou:
        pass
    monkeypatch.setattr(app.registry[ENGINE_KEY], "staging_bucket", "ocr-wrong-region")
    upload(testapp, member, document([Page(SWEDISH[:2]), Page(SECOND_PAGE[:2])], "pdf"))
    with caplog.at_level(logging.ERROR, "mypages_ocr"):
        ocr_worker()
    assert (stored(dbsession).status, stored(dbsession).reason) == ("failed", "service-refused")
    assert "must be in the Textract region eu-west-1" in caplog.text
    assert other.list_objects_v2(Bucket="ocr-wrong-region").get("KeyCount") == 0


def test_the_fake_answers_with_textracts_documented_errors(textract_server, staging_bucket):
    textract = client(textract_server)
    two_pages = document([Page(SWEDISH[:1]), Page(SECOND_PAGE[:1])], "pdf")
    cases = [
        (dict(Document={"Bytes": b"plain text, no document"}), "UnsupportedDocumentException"),
        (dict(Document={"Bytes": b"%PDF-1.7 broken"}), "BadDocumentException"),
        (dict(Document={"Bytes": two_pages}), "UnsupportedDocumentException"),
        (dict(Document={"S3Object": {"Bucket": STAGING, "Name": "missing"}}),
         "InvalidS3ObjectException"),
    ]
    for arguments, code in cases:
        with pytest.raises(ClientError) as raised:
            textract.detect_document_text(**arguments)
        assert raised.value.response["Error"]["Code"] == code
    with pytest.raises(textract.exceptions.InvalidJobIdException):
        textract.get_document_text_detection(JobId="0" * 32)
    with pytest.raises(textract.exceptions.InvalidParameterException):
        textract.analyze_document(Document={"Bytes": two_pages}, FeatureTypes=["QUERIES"],
                                  QueriesConfig={"Queries": [{"Text": f"q{i}"}
                                                             for i in range(16)]})


def test_the_async_pair_reports_in_progress_before_it_succeeds(textract_server, staging_bucket):
    textract = client(textract_server)
    staging_bucket.put_object(Bucket=STAGING, Key="doc.pdf",
                              Body=document([Page(SWEDISH), Page(SECOND_PAGE)], "pdf"))
    job = textract.start_document_text_detection(
        DocumentLocation={"S3Object": {"Bucket": STAGING, "Name": "doc.pdf"}})["JobId"]
    statuses = [textract.get_document_text_detection(JobId=job)["JobStatus"] for _ in range(3)]
    assert statuses == ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]
    first = textract.get_document_text_detection(JobId=job, MaxResults=1000)
    assert first["DocumentMetadata"]["Pages"] == 2 and len(first["Blocks"]) == 20
    assert first["NextToken"]
    staging_bucket.delete_object(Bucket=STAGING, Key="doc.pdf")


def test_textract_is_refused_in_a_region_where_aws_does_not_offer_it():
    with pytest.raises(OcrSettingError, match="not offered in 'eu-north-1'"):
        parse({"mypages_ocr.engine": "textract", "mypages_ocr.textract.region": "eu-north-1"})
    with pytest.raises(OcrSettingError, match="engine must be one of"):
        parse({"mypages_ocr.engine": "abbyy"})
