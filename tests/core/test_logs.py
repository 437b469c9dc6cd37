"""Every log line of a request carries the request's id, which the response sends back; the
ini file can make the lines JSON."""
from __future__ import annotations

import io
import json
import logging
import re
from ipaddress import ip_network

import pytest

from mypages.client_address import TrustedProxies
from mypages.logs import JsonFormatter, TextFormatter
from mypages.storage import BlobStore
from mypages.storage.local import LocalBlobStore

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines():
    """What the ``mypages`` loggers write, through a handler with the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("mypages")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def storage_down(replace_service, tmp_path):
    """Readiness logs a warning: something to read in the log."""
    (tmp_path / "file").write_text("in the way")
    replace_service(BlobStore, LocalBlobStore(tmp_path / "file" / "blobs"))


def test_each_response_has_its_own_request_id(testapp):
    first = testapp.get("/healthz").headers["X-Request-Id"]
    second = testapp.get("/healthz").headers["X-Request-Id"]

    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second


def test_a_requests_log_lines_are_json_with_its_id(testapp, storage_down, log_lines):
    answer = testapp.get("/readyz?format=json", status=503)

    lines = log_lines()
    assert lines, "readiness logged nothing"
    assert {line["request_id"] for line in lines} == {answer.headers["X-Request-Id"]}
    assert any(line["levelname"] == "WARNING" and "blob storage" in line["message"]
               for line in lines)
    logging.getLogger("mypages.test").warning("outside any request")
    assert "request_id" not in log_lines()[-1]


def test_the_id_of_a_trusted_proxy_is_kept(testapp, change_settings, storage_down, log_lines):
    change_settings(trusted_proxies=TrustedProxies((ip_network("10.0.0.0/8"),)))

    answer = testapp.get("/readyz?format=json", status=503, headers={"X-Request-Id": "lb-42.a_b"},
                         extra_environ={"REMOTE_ADDR": "10.1.2.3"})

    assert answer.headers["X-Request-Id"] == "lb-42.a_b"
    assert {line["request_id"] for line in log_lines()} == {"lb-42.a_b"}


@pytest.mark.parametrize("remote, given", [
    ("192.0.2.7", "chosen-by-the-client"),   # not a trusted proxy
    ("10.1.2.3", "two words"),               # not an id
    ("10.1.2.3", "x" * 129),                 # too long
    ("10.1.2.3", "line\r\nbreak"),
])
def test_anyone_elses_id_is_replaced(testapp, change_settings, remote, given):
    change_settings(trusted_proxies=TrustedProxies((ip_network("10.0.0.0/8"),)))

    answer = testapp.get("/healthz", headers={"X-Request-Id": given},
                         extra_environ={"REMOTE_ADDR": remote})

    assert HEX_ID.fullmatch(answer.headers["X-Request-Id"])


def test_a_plain_format_may_name_the_request_id(testapp, storage_down):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter("[%(request_id)s] %(levelname)s %(message)s"))
    logger = logging.getLogger("mypages")
    logger.addHandler(handler)
    try:
        answer = testapp.get("/readyz?format=json", status=503)
        logger.warning("after")
    finally:
        logger.removeHandler(handler)

    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(f"[{answer.headers['X-Request-Id']}] WARNING ")
    assert lines[-1] == "[-] WARNING after"


def test_over_http_the_ini_makes_the_log_json_with_request_ids(served):
    status, headers, _ = served.get("/readyz?format=json")

    assert status == 503
    request_id = headers["X-Request-Id"]
    mine = []
    for line in served.log.read_text().splitlines():
        if request_id in line:
            mine.append(json.loads(line))  # every line of the request is one JSON object
    assert mine and all(line["request_id"] == request_id for line in mine)
    assert {"asctime", "levelname", "name", "message"} <= set(mine[0])
