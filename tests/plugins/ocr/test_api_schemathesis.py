"""Schemathesis against the served OpenAPI document's document operations, as the core's
own run does (tests/core/api/test_api_schemathesis.py): positive and negative examples of
each, with a token of every scope of a company in the OCR trial that has a read document.
No answer may be a server error or break the document."""

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from mypages.testing.api import lift_rate_limits, served_schema

EXAMPLES = 15
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def api_token(app, factory, modules, monkeypatch, testapp, run_jobs, two_page_pdf):
    lift_rate_limits(app, monkeypatch)
    company = factory.company("Fuzz AB")
    modules.activate(company, "ocr")
    admin = factory.user(company=company, role="admin")
    token = factory.api_token(company, ["documents:read", "documents:write"], created_by=admin)
    testapp.post("/api/v1/documents", {"kind": "contract"},
                 upload_files=[("file", "avtal.pdf", two_page_pdf)],
                 headers={"Authorization": f"Bearer {token}"}, status=201)
    run_jobs(queues=["ocr"])
    return token


def excluded(case) -> list:
    # a cursor is signed; an uploaded file's content is more than its schema can say (random
    # bytes are, rightly, no PDF), so a "valid" upload may be refused
    if "cursor" in (case.query or {}) or case.operation.method.lower() == "post":
        return [checks.positive_data_acceptance]
    return []


@pytest.mark.only_database("sqlite", "the answers' shapes do not depend on the database; "
                                     "the other API tests run on both")
def test_every_document_operation_keeps_to_the_document(app, api_token):
    schema = served_schema(app, api_token)

    operations = [result.ok() for result in schema.include(tag="documents")
                  .get_all_operations()]
    assert {operation.label for operation in operations} >= {
        "GET /documents", "POST /documents", "GET /documents/{document_id}",
        "GET /documents/{document_id}/pages", "GET /documents/{document_id}/fields",
        "PUT /documents/{document_id}/fields/{field_name}", "DELETE /documents/{document_id}"}
    for operation in operations:
        for mode in GenerationMode:
            @given(case=operation.as_strategy(generation_mode=mode))
            @SETTINGS
            def run(case):
                case.call_and_validate(excluded_checks=excluded(case))

            run()
