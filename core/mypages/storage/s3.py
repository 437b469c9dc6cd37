"""Blobs in an S3 bucket, through boto3 (the ``mypages[s3]`` extra).

Imported only when ``mypages.storage.backend = s3``. Every object is written with
server-side encryption (``AES256``, or ``aws:kms`` with the key id given), under the
configured key prefix. Credentials come from boto3's own chain (environment variables, the
instance's or task's role), never from the ini file, and are never logged.
"""
from __future__ import annotations

import io

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mypages.storage import (DEFAULT_CONTENT_TYPE, BlobInfo, BlobNotFound, BlobStore,
                             BlobStream, InvalidBlobKey, check_content_type, check_key,
                             check_prefix)

NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys


class _Counting(io.RawIOBase):
    """A file read through, counting its bytes (the size of what was uploaded)."""

    def __init__(self, data):
        self.data = data
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        self.size += len(chunk)
        return chunk


class S3BlobStore(BlobStore):
    backend = "s3"

    def __init__(self, bucket: str, *, region: str, prefix: str = "", sse: str = "AES256",
                 kms_key_id: str = "", endpoint_url: str = "", timeout: float = 10.0):
        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.session.Session().client(
            "s3", region_name=region, endpoint_url=endpoint_url or None,
            config=Config(connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 3, "mode": "standard"}))
        self.encryption = {}
        if sse != "none":
            self.encryption["ServerSideEncryption"] = sse
        if sse == "aws:kms" and kms_key_id:
            self.encryption["SSEKMSKeyId"] = kms_key_id

    @classmethod
    def from_settings(cls, settings) -> "S3BlobStore":
        s3 = settings.storage.s3
        return cls(s3.bucket, region=s3.region, prefix=s3.prefix, sse=s3.sse,
                   kms_key_id=s3.kms_key_id, endpoint_url=s3.endpoint_url)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key, data, content_type=DEFAULT_CONTENT_TYPE):
        name = self._key(key)
        check_content_type(content_type)
        extra = {"ContentType": content_type, **self.encryption}
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data), **extra)
            return BlobInfo(key, len(data), content_type)
        # large files go up in parts
        counting = _Counting(data)
        self.client.upload_fileobj(counting, self.bucket, name, ExtraArgs=extra)
        return BlobInfo(key, counting.size, content_type)

    def stream(self, key):
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            raise self._not_found(error, key) from None
        return BlobStream(BlobInfo(key, found["ContentLength"], found["ContentType"]),
                          found["Body"])

    def info(self, key):
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            raise self._not_found(error, key) from None
        return BlobInfo(key, found["ContentLength"], found["ContentType"])

    @staticmethod
    def _not_found(error: ClientError, key: str) -> Exception:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return BlobNotFound(key)
        return error

    def delete(self, key):
        try:
            self.info(key)  # S3 deletes what is not there without a word
        except BlobNotFound:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        return True

    def _objects(self, prefix: str):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            yield from page.get("Contents", ())

    def list(self, prefix=""):
        check_prefix(prefix)
        for found in self._objects(prefix):
            key = found["Key"][len(self.prefix):]
            try:
                # the content type is not in the listing: one HEAD each
                yield self.info(key)
            except (BlobNotFound, InvalidBlobKey):  # deleted meanwhile; not written by us
                continue

    def delete_prefix(self, prefix):
        if not check_prefix(prefix):
            raise InvalidBlobKey("deleting by prefix needs a prefix")
        names = [found["Key"] for found in self._objects(prefix)]
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start:start + DELETE_BATCH]
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": name} for name in batch], "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise OSError(f"S3 refused to delete {len(answer['Errors'])} objects: "
                              f"{first.get('Code')}")
        return len(names)
