"""The ``mtls_server`` fixture: https on loopback that requires a client certificate of the
test's certificate authority, as BankID's RP API does."""
from __future__ import annotations

import ssl

import httpx
import pytest
import trustme

from mypages.testing.mtls import issue_client_certificate

REFUSED = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"hello {environ['PATH_INFO']}".encode()]


def test_a_client_with_a_certificate_of_the_authority_is_served(mtls_server):
    server = mtls_server(hello)

    with httpx.Client(verify=server.client_context()) as client:
        response = client.get(f"{server.url}/v6.0/auth")

    assert server.url.startswith("https://127.0.0.1:")
    assert (response.status_code, response.text) == (200, "hello /v6.0/auth")


def test_a_client_without_a_certificate_is_refused(mtls_server):
    server = mtls_server(hello)
    trusting = ssl.create_default_context(cafile=server.ca_file)

    with httpx.Client(verify=trusting) as client, pytest.raises(REFUSED):
        client.get(f"{server.url}/v6.0/auth")


def test_a_client_certificate_of_another_authority_is_refused(mtls_server, tmp_path):
    server = mtls_server(hello)
    stranger = issue_client_certificate(trustme.CA(), tmp_path, "stranger")

    with httpx.Client(verify=server.client_context(stranger)) as client, pytest.raises(REFUSED):
        client.get(f"{server.url}/v6.0/auth")


def test_the_server_is_trusted_only_through_its_authority(mtls_server):
    server = mtls_server(hello)
    system_trust = ssl.create_default_context()
    system_trust.load_cert_chain(*server.client.pair)

    with httpx.Client(verify=system_trust) as client, pytest.raises(httpx.ConnectError):
        client.get(server.url)
