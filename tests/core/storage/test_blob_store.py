"""One contract, both backends: local files, and S3 over real HTTP to moto's server."""
from __future__ import annotations

import io
import logging
import threading
import uuid

import pytest

from mypages.storage import (BlobInfo, BlobNotFound, InvalidBlobKey, ScopedBlobStore,
                             blob_store, root_store)
from mypages.storage.local import LocalBlobStore
from mypages.storage.s3 import S3BlobStore
from mypages.testing.s3 import CREDENTIALS, REGION

BUCKET = "mypages-contract"


@pytest.fixture(scope="module")
def bucket(s3_server):
    return s3_server.create_bucket(BUCKET)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    server = request.getfixturevalue("s3_server")
    request.getfixturevalue("bucket")
    # a prefix of its own per test: tests share the bucket, never each other's blobs
    return S3BlobStore(BUCKET, region=REGION, endpoint_url=server.endpoint_url,
                       prefix=f"t-{uuid.uuid4().hex}/")


def test_put_then_get_gives_the_bytes_size_and_content_type(store):
    info = store.put("invoices/2024/a.pdf", b"%PDF-1.7 hello", "application/pdf")

    assert info == BlobInfo("invoices/2024/a.pdf", 14, "application/pdf")
    assert store.get("invoices/2024/a.pdf") == (info, b"%PDF-1.7 hello")
    assert store.info("invoices/2024/a.pdf") == info


def test_put_replaces_the_blob_and_its_content_type(store):
    store.put("a.txt", b"old", "text/plain")
    store.put("a.txt", b"new json", "application/json")

    assert store.get("a.txt") == (BlobInfo("a.txt", 8, "application/json"), b"new json")


def test_a_file_is_stored_and_read_back_in_chunks(store):
    data = bytes(range(256)) * 1024 * 3  # 768 KiB: several chunks, and S3's parts
    info = store.put("big.bin", io.BytesIO(data))

    assert info.size == len(data) and info.content_type == "application/octet-stream"
    with store.stream("big.bin") as stream:
        assert stream.info.size == len(data)
        chunks = list(stream)
    assert len(chunks) > 1 and max(map(len, chunks)) <= 64 * 1024
    assert b"".join(chunks) == data


def test_an_empty_blob_is_a_blob(store):
    store.put("empty", b"")

    assert store.get("empty") == (BlobInfo("empty", 0, "application/octet-stream"), b"")


def test_missing_blobs_are_not_found(store):
    for read in (store.get, store.stream, store.info):
        with pytest.raises(BlobNotFound):
            read("nothing/here")
    assert store.delete("nothing/here") is False


def test_delete_removes_the_blob_and_only_it(store):
    store.put("a/1", b"1")
    store.put("a/2", b"2")

    assert store.delete("a/1") is True
    with pytest.raises(BlobNotFound):
        store.get("a/1")
    assert [info.key for info in store.list()] == ["a/2"]


def test_list_by_prefix_in_key_order(store):
    for key in ("b/2", "a/1", "b/1", "ba/1", "c"):
        store.put(key, key.encode(), "text/plain")

    assert [info.key for info in store.list("b/")] == ["b/1", "b/2"]
    assert [info.key for info in store.list("b")] == ["b/1", "b/2", "ba/1"]
    assert [info.key for info in store.list()] == ["a/1", "b/1", "b/2", "ba/1", "c"]
    assert list(store.list("b/1")) == [BlobInfo("b/1", 3, "text/plain")]
    assert list(store.list("nothing/")) == []


def test_delete_by_prefix(store):
    for key in ("b/2", "a/1", "b/1", "ba/1"):
        store.put(key, b"x")

    assert store.delete_prefix("b/") == 2
    assert [info.key for info in store.list()] == ["a/1", "ba/1"]
    with pytest.raises(InvalidBlobKey):
        store.delete_prefix("")  # everything: refused


BAD_KEYS = ["", "/etc/passwd", "../outside", "a/../../outside", "a/./b", "a//b", "a/", ".hidden",
            "a/.tmp-123", "C:\\windows", "a\\..\\b", "a\x00b", "a b", "ä", "a/" + "x" * 600, None]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_could_leave_the_store_are_refused_before_anything_is_touched(store, key,
                                                                                tmp_path):
    for act in (lambda: store.put(key, b"x"), lambda: store.get(key),
                lambda: store.info(key), lambda: store.delete(key)):
        with pytest.raises(InvalidBlobKey):
            act()
    assert list(store.list()) == []
    assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("content_type", ["", "text", "text/plain\r\nX-Evil: 1", None])
def test_content_types_must_be_content_types(store, content_type):
    with pytest.raises(ValueError):
        store.put("a", b"x", content_type)
    with pytest.raises(BlobNotFound):
        store.get("a")


def test_a_company_scope_cannot_be_left_or_forgotten(store):
    acme, other = ScopedBlobStore(store, "companies/1/"), ScopedBlobStore(store, "companies/2/")
    acme.put("contracts/a.pdf", b"acme's", "application/pdf")
    other.put("contracts/a.pdf", b"other's", "application/pdf")

    assert acme.get("contracts/a.pdf")[1] == b"acme's"
    assert [info.key for info in acme.list()] == ["contracts/a.pdf"]
    assert [info.key for info in store.list()] == ["companies/1/contracts/a.pdf",
                                                   "companies/2/contracts/a.pdf"]
    with pytest.raises(InvalidBlobKey):
        acme.get("../2/contracts/a.pdf")

    assert acme.delete_prefix("") == 1  # a company's erasure: all of its blobs
    assert [info.key for info in store.list()] == ["companies/2/contracts/a.pdf"]


def test_readers_see_the_old_blob_or_the_new_one_never_a_mix(store):
    old, new = b"o" * 200_000, b"n" * 300_000
    store.put("doc", old)
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            try:
                seen.add(store.get("doc")[1])
            except BlobNotFound:
                seen.add(None)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(5):
            store.put("doc", new)
            store.put("doc", old)
    finally:
        stop.set()
        reader.join()
    assert seen <= {old, new}


def test_the_app_scopes_blobs_by_company(app, factory):
    company = factory.company()

    blobs = blob_store(app, company)
    blobs.put("logo.png", b"\x89PNG", "image/png")

    assert root_store(app).info(f"companies/{company.id}/logo.png").size == 4
    assert blob_store(app, None).list() is not None
    assert [info.key for info in blob_store(app, None).list()] == []
    with pytest.raises(ValueError):
        blob_store(app, 0)


def test_s3_objects_are_encrypted_on_the_server(s3_server, bucket):
    store = S3BlobStore(BUCKET, region=REGION, endpoint_url=s3_server.endpoint_url,
                        prefix="sse/")
    store.put("a", b"x")
    kms = S3BlobStore(BUCKET, region=REGION, endpoint_url=s3_server.endpoint_url, prefix="kms/",
                      sse="aws:kms", kms_key_id="alias/mypages")
    kms.put("a", b"x")

    client = s3_server.client()
    assert client.head_object(Bucket=BUCKET, Key="sse/a")["ServerSideEncryption"] == "AES256"
    found = client.head_object(Bucket=BUCKET, Key="kms/a")
    assert found["ServerSideEncryption"] == "aws:kms"
    assert found["SSEKMSKeyId"].endswith("alias/mypages")


def test_s3_credentials_never_reach_the_log(s3_server, bucket, caplog):
    with caplog.at_level(logging.DEBUG):
        store = S3BlobStore(BUCKET, region=REGION, endpoint_url=s3_server.endpoint_url,
                            prefix="log/")
        store.put("a", b"x")
        store.get("a")
        with pytest.raises(BlobNotFound):
            store.get("b")
    assert caplog.records  # boto3 did log, at DEBUG
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in caplog.text
