"""The RP API client against the fake service over HTTPS with mutual TLS on loopback: the
client certificate is really presented, only the configured CA is trusted, the content type
carries no charset, and only a 503 is retried."""
from __future__ import annotations

import socket
import ssl
import threading

import httpx
import pytest

from mypages_bankid.client import (BankIDError, ConfigurationError, RpClient,
                                   certificate_expiry, config_from_settings)
from mypages_bankid.fake import FakeBankID, FakeCertificates, Outcome
from mypages_bankid.qr import qr_content

IP = "192.0.2.10"
PNR = "199001011239"


def test_the_client_certificate_is_presented_from_pkcs12(rp_client, fake_bankid):
    answer = rp_client.auth(IP)
    assert set(answer) == {"orderRef", "autoStartToken", "qrStartToken", "qrStartSecret"}
    [request] = fake_bankid.requests
    assert "CN=FP Testcert fake" in request["client"]
    assert request["body"] == {"endUserIp": IP}


def test_the_client_certificate_is_presented_from_a_pem_pair(rp_config, fake_bankid,
                                                            bankid_certificates):
    client = RpClient(rp_config(certificate=bankid_certificates.rp_cert_file,
                                key=bankid_certificates.rp_key_file, password=None))
    client.phone_auth(PNR, "RP")
    assert "CN=FP Testcert fake" in fake_bankid.requests[0]["client"]
    client.close()


def test_the_fake_demands_a_client_certificate(fake_bankid, bankid_certificates):
    """httpx's own pitfall: verify=<path> beside cert= loses the certificate; and with no
    certificate at all the service does not answer."""
    with pytest.raises(httpx.TransportError):
        httpx.post(fake_bankid.url + "auth", json={"endUserIp": IP},
                   verify=ssl.create_default_context(cafile=bankid_certificates.server_ca_file))
    assert fake_bankid.requests == []


def test_a_server_whose_certificate_comes_from_another_ca_is_refused(
        rp_config, bankid_certificates, tmp_path):
    other = FakeBankID(FakeCertificates(tmp_path, name="Other")).start()
    try:
        client = RpClient(rp_config(url=other.url))
        with pytest.raises(BankIDError) as refused:
            client.auth(IP)
        assert refused.value.error_code == "tls"
        assert other.requests == []
    finally:
        other.stop()


def test_the_system_authorities_are_not_trusted(rp_config):
    context = RpClient(rp_config())._context
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("organizationName", "Fake BankID"),), (("commonName", "Fake BankID SSL Root CA"),))]


def test_the_content_type_has_no_charset(fake_bankid, bankid_certificates, rp_client):
    rp_client.auth(IP)  # accepted: the client's own header
    context = ssl.create_default_context(cafile=bankid_certificates.server_ca_file)
    context.load_cert_chain(bankid_certificates.rp_cert_file, bankid_certificates.rp_key_file)
    answer = httpx.post(fake_bankid.url + "auth", content=b'{"endUserIp":"192.0.2.10"}',
                        headers={"Content-Type": "application/json; charset=utf-8"},
                        verify=context)
    assert answer.status_code == 415 and answer.json()["errorCode"] == "unsupportedMediaType"


def test_an_identification_completes(rp_client, fake_bankid):
    fake_bankid.script(Outcome(pending=("outstandingTransaction", "userSign")))
    order = rp_client.auth(IP, return_risk=True)["orderRef"]
    assert rp_client.collect(order)["hintCode"] == "outstandingTransaction"
    assert rp_client.collect(order)["hintCode"] == "userSign"
    done = rp_client.collect(order)
    assert done["status"] == "complete"
    assert done["completionData"]["user"]["personalNumber"] == PNR
    assert done["completionData"]["risk"] == "low"
    assert done["completionData"]["device"]["ipAddress"] == IP


def test_a_phone_signature_and_a_signature(rp_client, fake_bankid):
    rp_client.phone_sign(PNR, "user", "Köp av **modulen**")
    rp_client.sign(IP, "Jag godkänner", personal_number="198112189876",
                   user_non_visible_data=b"order 7")
    phone, sign = fake_bankid.requests
    assert phone["body"]["callInitiator"] == "user"
    assert phone["body"]["userVisibleDataFormat"] == "simpleMarkdownV1"
    assert sign["body"]["requirement"] == {"personalNumber": "198112189876"}
    [pending] = [o for o in fake_bankid.pending() if o.kind == "phone/sign"]
    assert pending.public()["userVisibleData"] == "Köp av **modulen**"


@pytest.mark.parametrize("end, hint", [("userCancel", "userCancel"),
                                       ("expiredTransaction", "expiredTransaction"),
                                       ("startFailed", "startFailed")])
def test_scripted_failures(rp_client, fake_bankid, end, hint):
    fake_bankid.script(end)
    order = rp_client.auth(IP)["orderRef"]
    assert rp_client.collect(order) == {"orderRef": order, "status": "failed", "hintCode": hint}


def test_a_second_order_for_a_personal_number_is_already_in_progress(rp_client):
    rp_client.phone_auth(PNR, "user")
    with pytest.raises(BankIDError) as refused:
        rp_client.auth(IP, personal_number=PNR)
    assert (refused.value.status, refused.value.error_code) == (400, "alreadyInProgress")


def test_maintenance_is_retried_silently(rp_client, fake_bankid):
    fake_bankid.fail_next("auth", "maintenance", times=2)
    assert "orderRef" in rp_client.auth(IP)
    assert len(fake_bankid.requests) == 3


@pytest.mark.parametrize("error", ["maintenance", "503"])
def test_a_503_that_repeats_is_an_error(rp_client, fake_bankid, error):
    fake_bankid.fail_next("collect", error, times=3)
    with pytest.raises(BankIDError) as failed:
        rp_client.collect("x")
    assert (failed.value.status, failed.value.error_code) == (503, "maintenance")
    assert len(fake_bankid.requests) == 3


@pytest.mark.parametrize("error, status", [("requestTimeout", 408), ("internalError", 500),
                                           ("invalidParameters", 400), ("unauthorized", 401),
                                           ("tooManyRequests", 429)])
def test_other_errors_are_not_retried(rp_client, fake_bankid, error, status):
    fake_bankid.script(error)
    with pytest.raises(BankIDError) as failed:
        rp_client.auth(IP)
    assert (failed.value.status, failed.value.error_code) == (status, error)
    assert len(fake_bankid.requests) == 1


def test_a_cancelled_order_cannot_be_collected(rp_client):
    order = rp_client.auth(IP)["orderRef"]
    rp_client.cancel(order)
    with pytest.raises(BankIDError) as failed:
        rp_client.collect(order)
    assert failed.value.error_code == "invalidParameters"


def test_an_order_is_gone_3_minutes_after_completion(rp_client, fake_bankid):
    fake_bankid.script("complete")
    order = rp_client.auth(IP)["orderRef"]
    assert rp_client.collect(order)["status"] == "complete"
    fake_bankid.now.shift(181)
    with pytest.raises(BankIDError) as failed:
        rp_client.collect(order)
    assert failed.value.error_code == "invalidParameters"


def test_an_unscanned_order_fails_with_start_failed(rp_client, fake_bankid):
    order = rp_client.auth(IP)["orderRef"]
    fake_bankid.now.shift(31)
    assert rp_client.collect(order)["hintCode"] == "startFailed"


def test_the_fake_reads_the_current_qr_code_and_refuses_a_stale_or_forged_one(rp_client,
                                                                              fake_bankid):
    started = rp_client.auth(IP)
    token, secret = started["qrStartToken"], started["qrStartSecret"]
    fake_bankid.now.shift(10)
    with pytest.raises(Exception, match="stale"):
        fake_bankid.scan(qr_content(token, secret, 0))
    with pytest.raises(Exception, match="wrong"):
        fake_bankid.scan(qr_content(token, "another secret", 10))
    order = fake_bankid.scan(qr_content(token, secret, 10))
    assert rp_client.collect(order.order_ref)["hintCode"] == "started"
    fake_bankid.approve(order.order_ref)
    assert rp_client.collect(order.order_ref)["status"] == "complete"


def test_the_qr_code_follows_the_specifications_test_vector():
    token = "67df3917-fa0d-44e5-b327-edcc928297f8"
    secret = "d28db9a7-4cde-429e-a983-359be676944c"
    assert qr_content(token, secret, 0) == (
        f"bankid.{token}.0.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8")
    assert qr_content(token, secret, 2).endswith(
        "a9e5ec59cb4eee4ef4117150abc58fad7a85439a6a96ccbecc3668b41795b3f3")


def test_a_server_that_does_not_answer_is_a_timeout_not_retried(rp_config):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    client = RpClient(rp_config(url=f"https://localhost:{listener.getsockname()[1]}/rp/v6.0/",
                                timeout=0.2))
    with pytest.raises(BankIDError) as failed:
        client.collect("x")
    assert failed.value.error_code == "timeout"
    listener.close()


def test_the_environment_is_chosen_by_configuration_alone(bankid_certificates):
    files = {"bankid.ca_file": bankid_certificates.server_ca_file,
             "bankid.certificate": bankid_certificates.rp_p12_file}
    test = config_from_settings({"bankid.environment": "test", **files},
                                {"MYPAGES_BANKID_CERTIFICATE_PASSWORD": "qwerty123"})
    assert test.url == "https://appapi2.test.bankid.com/rp/v6.0/"
    assert test.password == "qwerty123" and "qwerty123" not in repr(test)
    production = config_from_settings({"bankid.environment": "production", **files}, {})
    assert production.url == "https://appapi2.bankid.com/rp/v6.0/"
    assert config_from_settings({}, {}) is None
    with pytest.raises(ConfigurationError, match="bankid.environment"):
        config_from_settings({"bankid.environment": "prod", **files}, {})
    with pytest.raises(ConfigurationError, match="https"):
        config_from_settings({"bankid.environment": "test", "bankid.url": "http://x/", **files})


def test_the_certificates_expiry_is_read_from_pkcs12_and_pem(rp_config, bankid_certificates):
    expected = bankid_certificates.rp.certificate.not_valid_after_utc
    assert certificate_expiry(rp_config()) == expected
    assert certificate_expiry(rp_config(certificate=bankid_certificates.rp_cert_file,
                                        key=bankid_certificates.rp_key_file)) == expected
