"""A request body above ``mypages.max_body_size`` is refused with a translated 413 before it
is read: by its Content-Length at once, and a chunked one as soon as it grows past the limit.
"""
from __future__ import annotations

import io
import socket

import pytest
from webtest import TestRequest


LIMIT = 1000


class Untouchable(io.RawIOBase):
    """A request body that counts what is read of it."""

    def __init__(self, data: bytes):
        self.data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, size=-1):
        chunk = self.data.read(size)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size=-1):
        chunk = self.data.readline(size)
        self.read_bytes += len(chunk)
        return chunk


def post(testapp, body: Untouchable, **environ):
    request = TestRequest.blank("/login", method="POST", environ={
        "wsgi.input": body, "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_ACCEPT_LANGUAGE": "sv", **environ})
    return testapp.do_request(request, status="*", expect_errors=True)


@pytest.fixture
def small_limit(change_settings):
    change_settings(max_body_size=LIMIT)


def test_a_body_longer_than_the_limit_is_refused_unread(testapp, small_limit):
    body = Untouchable(b"email=a%40b.se&password=" + b"x" * 5000)

    response = post(testapp, body, CONTENT_LENGTH=str(5024))

    assert response.status_int == 413
    assert body.read_bytes == 0
    assert "Det du skickade är för stort" in response.text  # in the person's language
    assert "(högst 0.1 MB)" in response.text
    within = Untouchable(b"email=a%40b.se&password=secret")
    assert post(testapp, within, CONTENT_LENGTH="30").status_int != 413
    assert within.read_bytes == 30


def test_a_chunked_body_is_refused_when_it_grows_past_the_limit(testapp, small_limit):
    body = Untouchable(b"email=a%40b.se&password=" + b"x" * 50_000)

    response = post(testapp, body, HTTP_TRANSFER_ENCODING="chunked",
                    **{"wsgi.input_terminated": True})

    assert response.status_int == 413
    assert body.read_bytes <= LIMIT + 1  # never the whole body


def test_the_limit_is_ten_megabytes_unless_set(testapp):
    body = Untouchable(b"")

    response = post(testapp, body, CONTENT_LENGTH=str(10 * 1024 * 1024 + 1))

    assert response.status_int == 413 and body.read_bytes == 0
    assert "10 MB" in response.text


def _answer(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def test_over_http_the_refusal_comes_before_the_body_is_sent(served):
    with socket.create_connection((served.host, served.port), timeout=10) as sock:
        # 50 MB announced, not one byte of them sent: only an answer that did not wait for
        # the body can arrive
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: en\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 52428800\r\n\r\n")
        answer = _answer(sock)

    assert answer.startswith(b"HTTP/1.1 413 ")
