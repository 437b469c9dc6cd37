"""Unexpected errors (ASVS 16.5): a styled, translated page with a reference id that is also
in the log line, the same security headers as every other answer, no exception text, and
nothing of the request written."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mypages.companies.models import Company
from mypages.web import errors
from tests.security.extra_routes import SECRET_DETAIL
from tests.security.support import browser, translated
from tests.security.test_headers import assert_security_headers

PATHS = ("/_test/raises", "/_test/writes-then-raises", "/_test/commit-fails",
         "/_test/callback-raises", "/_test/breaks-the-error-page")


def reference_in(page) -> str:
    return page.html.find(id="error-reference").text.strip()


@pytest.mark.parametrize("path", PATHS)
def test_an_unexpected_error_gets_the_error_page_with_a_reference_in_the_log(
        extra_app, dbsession, caplog, path):
    caplog.set_level(logging.ERROR, logger="mypages.errors")
    visitor = browser(extra_app)
    page = visitor.get(path, status=500)
    assert_security_headers(page, path)
    assert page.content_type == "text/html"
    assert translated(extra_app, errors.TITLE) in page.text  # Swedish by default
    assert page.html.find("link", rel="stylesheet")  # styled like every page
    reference = reference_in(page)
    assert re.fullmatch(r"[0-9a-f]{12}", reference)
    assert SECRET_DETAIL not in page.text and "Traceback" not in page.text
    logged = [record for record in caplog.records if reference in record.getMessage()]
    # one line, and one more if even the error page could not be made
    assert len(logged) == (2 if "breaks" in path else 1)
    assert all(record.levelno == logging.ERROR for record in logged)
    error = logged[0].exc_info[1]
    assert SECRET_DETAIL in str(error) or isinstance(error, IntegrityError)
    if "breaks" in path or "callback" in path:  # the plain page: no template, no database
        assert page.html.find("form") is None
    # nothing of the failed request was kept
    dbsession.expire_all()
    assert dbsession.scalar(select(func.count()).select_from(Company)) == 0


def test_each_error_has_its_own_reference_and_the_page_speaks_the_visitors_language(extra_app):
    visitor = browser(extra_app, HTTP_ACCEPT_LANGUAGE="en")
    first = visitor.get("/_test/raises", status=500)
    second = visitor.get("/_test/callback-raises", status=500)
    assert reference_in(first) != reference_in(second)
    for page in (first, second):
        assert page.html.find("html")["lang"] == "en"
        assert "Something went wrong" in page.text
    finnish = browser(extra_app, HTTP_ACCEPT_LANGUAGE="fi").get("/_test/raises", status=500)
    assert translated(extra_app, errors.TITLE, "fi") in finnish.text
    assert translated(extra_app, errors.TITLE, "fi") != "Something went wrong"


def test_the_log_line_leaves_out_the_query_and_the_statements_values(extra_app, caplog):
    caplog.set_level(logging.ERROR, logger="mypages.errors")
    page = browser(extra_app).get("/_test/commit-fails?token=secret-token-value", status=500)
    logged = "\n".join(record.getMessage() + str(record.exc_info[1]) for record in caplog.records)
    assert reference_in(page) in logged
    assert "secret-token-value" not in logged
    # the statement's values are hidden (PostgreSQL's own message may still quote the key)
    assert "SQL parameters hidden" in logged


def test_an_http_answer_raised_by_a_view_is_that_answer_not_an_error(extra_app, caplog):
    caplog.set_level(logging.ERROR, logger="mypages.errors")
    response = browser(extra_app).get("/_test/raises-a-redirect", status=303)
    assert response.location.endswith("/account")
    assert_security_headers(response, "redirect")
    assert caplog.records == []
