"""Requests and answers checked against the document with openapi-core; what passed once
is remembered, what did not is checked in full every time."""
import dataclasses

import pytest
from webob import Request, Response

from mypages.api.document import ApiBuilder, build_document
from mypages.api.validation import Checked, OpenApiRequest, openapi_of

THING = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}


@pytest.fixture
def api():
    builder = ApiBuilder()
    builder.add_scope("things:read", "Read things")
    builder.add_schema("Thing", THING)
    builder.add_operation("get", "/things/{key}", lambda call: None, operation_id="getThing",
                          scope="things:read", summary="A thing",
                          parameters=[{"name": "X-Tenant", "in": "header", "required": True,
                                       "schema": {"type": "string", "pattern": "^[a-z]+$"}}],
                          response={"$ref": "#/components/schemas/Thing"})
    operation = builder.operations[0]
    return openapi_of(build_document(builder)), operation, Checked()


def call(key="one", **headers):
    request = Request.blank(f"/api/v1/things/{key}",
                            headers={"Authorization": "Bearer mp_1_x", **headers})
    return OpenApiRequest(request, "/things/{key}", {"key": key})


def answer(body: bytes):
    return Response(body, content_type="application/json", charset="utf-8")


def test_a_declared_header_is_part_of_what_is_remembered(api):
    openapi, operation, checked = api
    assert operation.header_names == ("X-Tenant",)
    _result, problems = checked.request(openapi, call(**{"X-Tenant": "acme"}), "",
                                        operation.header_names)
    assert problems == []
    _result, problems = checked.request(openapi, call(), "", operation.header_names)
    assert problems  # the same request without the header is checked again, and fails
    _result, problems = checked.request(openapi, call(**{"X-Tenant": "NOT OK"}), "",
                                        operation.header_names)
    assert problems


def test_an_answer_that_breaks_the_document_is_caught_after_good_ones(api):
    openapi, _operation, checked = api
    request = call(**{"X-Tenant": "acme"})
    assert checked.answer(openapi, request, answer(b'{"id": 1}')) == []
    assert checked.answer(openapi, request, answer(b'{"id": 1}')) == []  # remembered
    assert checked.answer(openapi, request, answer(b'{"id": "one"}'))
    assert checked.answer(openapi, request, answer(b'{}'))
    assert checked.answer(openapi, request, answer(b'{}'))  # never remembered


def test_an_operation_answering_outside_the_document_is_a_server_error(app, testapp, factory,
                                                                       monkeypatch):
    """In production too: the answer is never sent, the fault is logged with a reference."""
    token = factory.api_token(factory.company(), ["company:read"])
    api = app.registry["api.published"]
    key = ("/company", "get")
    testapp.get("/api/v1/company", headers={"Authorization": f"Bearer {token}"}, status=200)
    monkeypatch.setitem(api.operations, key, dataclasses.replace(
        api.operations[key], view=lambda call: {"id": "not a number"}))
    broken = testapp.get("/api/v1/company", headers={"Authorization": f"Bearer {token}"},
                         status=500)
    assert broken.json["type"] == "urn:mypages:problem:server-error"
    assert "not a number" not in broken.text
