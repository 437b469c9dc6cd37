"""An S3 service on loopback for tests: moto's standalone server, spoken to over real HTTP.

The application's S3 backend talks to it as to AWS (boto3, signed requests, the same XML),
only at ``endpoint_url``. Credentials are made-up ones in the environment, where boto3 looks
for real ones.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import boto3
from moto.server import ThreadedMotoServer

REGION = "eu-north-1"
#: made-up credentials; boto3 reads them from the environment as it reads real ones
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAFAKES3TESTING000", "AWS_SECRET_ACCESS_KEY":
               "fake-secret-access-key-for-tests-only-0000", "AWS_DEFAULT_REGION": REGION}
#: what would send boto3 elsewhere for credentials or an endpoint
_ELSEWHERE = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@contextmanager
def fake_credentials():
    """The made-up credentials in the environment inside the block, as they were after."""
    saved = {name: os.environ.get(name) for name in (*CREDENTIALS, *_ELSEWHERE)}
    for name in _ELSEWHERE:
        os.environ.pop(name, None)
    os.environ.update(CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class FakeS3:
    """``FakeS3().start()``: moto's S3 on 127.0.0.1 at a free port; ``stop()`` ends it."""

    def __init__(self):
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> "FakeS3":
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self):
        """A boto3 client of the fake, to look at what the application stored."""
        return boto3.client("s3", region_name=REGION, endpoint_url=self.endpoint_url)

    def create_bucket(self, name: str) -> str:
        """The bucket ``name``, made if it is not there yet."""
        client = self.client()
        try:
            client.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        return name

    def settings(self, bucket: str, **more: str) -> dict:
        """The ini settings of an application that keeps its blobs in ``bucket`` here."""
        return {"mypages.storage.backend": "s3", "mypages.storage.s3.bucket": bucket,
                "mypages.storage.s3.region": REGION,
                "mypages.storage.s3.endpoint_url": self.endpoint_url, **more}
