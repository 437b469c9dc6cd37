"""Choosing the backend: typed settings, production's refusals, and boto3 only when S3 is
chosen."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from cryptography.fernet import Fernet

from mypages import main
from mypages.settings import InvalidSetting, UnsafeConfiguration, parse
from mypages.storage import root_store
from mypages.storage.local import LocalBlobStore
from mypages.storage.s3 import S3BlobStore
from mypages.testing.s3 import REGION

BASE = {"sqlalchemy.url": "sqlite://", "mypages.environment": "test"}


@pytest.fixture
def production(tmp_path) -> dict:
    """A production configuration that starts, blobs in local files."""
    return {
        "sqlalchemy.url": f"sqlite:///{tmp_path}/mypages.sqlite",
        "mypages.environment": "production",
        "mypages.secret": "s" * 48,
        "mypages.encryption_keys": Fernet.generate_key().decode(),
        "mypages.blind_index_key": Fernet.generate_key().decode(),
        "mypages.base_url": "https://mypages.example.se",
        "mypages.smtp.host": "smtp.example.se",
        "mypages.storage.directory": str(tmp_path / "blobs"),
        # a production installation leaves the development tools out (tests/devtools)
        "mypages.plugins.deny": "devtools",
    }


def test_local_files_under_var_are_the_default():
    storage = parse(BASE).storage

    assert (storage.backend, storage.directory) == ("local", "var/blobs")
    assert parse(BASE).max_body_size == 10 * 1024 * 1024


def test_the_s3_settings_are_typed():
    storage = parse({**BASE, "mypages.storage.backend": "s3",
                     "mypages.storage.s3.bucket": "acme-blobs",
                     "mypages.storage.s3.region": "eu-north-1",
                     "mypages.storage.s3.prefix": "/mypages/",
                     "mypages.storage.s3.sse": "aws:kms",
                     "mypages.storage.s3.kms_key_id": "alias/mypages"}).storage

    assert storage.backend == "s3"
    assert (storage.s3.bucket, storage.s3.region, storage.s3.prefix) == (
        "acme-blobs", "eu-north-1", "mypages/")
    assert (storage.s3.sse, storage.s3.kms_key_id) == ("aws:kms", "alias/mypages")


@pytest.mark.parametrize("value, size", [("1048576", 1048576), ("512K", 512 * 1024),
                                         ("10M", 10 * 1024 ** 2), ("1GiB", 1024 ** 3)])
def test_the_body_size_limit_is_read_in_bytes_or_with_a_unit(value, size):
    assert parse({**BASE, "mypages.max_body_size": value}).max_body_size == size


@pytest.mark.parametrize("key, value, problem", [
    ("mypages.storage.backend", "ftp", "mypages.storage.backend must be local or s3"),
    ("mypages.storage.s3.region", "Stockholm", "mypages.storage.s3.region must be an AWS region"),
    ("mypages.storage.s3.bucket", "Acme_Blobs", "mypages.storage.s3.bucket must be an S3 bucket"),
    ("mypages.storage.s3.sse", "AES128", "mypages.storage.s3.sse must be one of"),
    ("mypages.storage.s3.endpoint_url", "minio:9000", "mypages.storage.s3.endpoint_url must be"),
    ("mypages.max_body_size", "ten megabytes", "mypages.max_body_size must be a size"),
    ("mypages.max_body_size", "0", "mypages.max_body_size must be a size"),
])
def test_a_storage_value_that_cannot_be_used_stops_start_up_naming_it(key, value, problem):
    with pytest.raises(InvalidSetting) as refused:
        main({}, **{**BASE, key: value})

    assert str(refused.value).startswith(problem) and repr(value) in str(refused.value)


def test_production_needs_the_s3_settings_complete(production):
    with pytest.raises(UnsafeConfiguration) as refused:
        main({}, **production, **{"mypages.storage.backend": "s3",
                                  "mypages.storage.s3.sse": "none"})

    problems = str(refused.value)
    for setting in ("mypages.storage.s3.bucket", "mypages.storage.s3.region",
                    "mypages.storage.s3.sse must be AES256 or aws:kms"):
        assert setting in problems


def test_production_names_the_kms_key_and_a_secure_endpoint(production):
    with pytest.raises(UnsafeConfiguration) as refused:
        main({}, **production, **{"mypages.storage.backend": "s3",
                                  "mypages.storage.s3.bucket": "acme-blobs",
                                  "mypages.storage.s3.region": "eu-north-1",
                                  "mypages.storage.s3.sse": "aws:kms",
                                  "mypages.storage.s3.endpoint_url": "http://10.0.0.5:9000"})

    problems = str(refused.value)
    assert "mypages.storage.s3.kms_key_id must name the KMS key" in problems
    assert "mypages.storage.s3.endpoint_url must be an https:// address" in problems
    assert "bucket" not in problems and "region" not in problems


def test_the_app_keeps_blobs_where_the_settings_say(tmp_path, s3_server):
    local = main({}, **BASE, **{"mypages.storage.directory": str(tmp_path / "here")})
    s3 = main({}, **BASE, **s3_server.settings(s3_server.create_bucket("app-blobs")))

    assert isinstance(root_store(local), LocalBlobStore)
    assert root_store(local).root == tmp_path / "here"
    assert isinstance(root_store(s3), S3BlobStore)
    root_store(s3).put("a", b"x")
    assert s3_server.client().get_object(Bucket="app-blobs", Key="a")["Body"].read() == b"x"


def _run(code: str, settings: dict) -> dict:
    """``code`` in a Python of its own, with ``settings``; it prints JSON."""
    found = subprocess.run([sys.executable, "-c", textwrap.dedent(code), json.dumps(settings)],
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout.splitlines()[-1])


def test_a_deployment_without_s3_never_imports_boto3(production):
    found = _run("""
        import json, sys
        from mypages import application
        from mypages.storage import root_store
        app = application(json.loads(sys.argv[1]))  # on an empty database: no migration check
        root_store(app).put("a", b"x")
        print(json.dumps({"store": type(root_store(app)).__name__,
                          "imported": sorted(m for m in sys.modules
                                             if m.split(".")[0] in ("boto3", "botocore"))}))
    """, production)

    assert found == {"store": "LocalBlobStore", "imported": []}


def test_choosing_s3_without_boto3_says_which_extra_to_install():
    found = _run("""
        import json, sys
        sys.modules["boto3"] = None  # as if the s3 extra were not installed
        from mypages import main
        try:
            main({}, **json.loads(sys.argv[1]))
        except Exception as error:
            print(json.dumps({"error": type(error).__name__, "message": str(error)}))
    """, {**BASE, "mypages.storage.backend": "s3", "mypages.storage.s3.bucket": "acme-blobs",
          "mypages.storage.s3.region": REGION})

    assert found["error"] == "InvalidSetting"
    assert "pip install 'mypages[s3]'" in found["message"]
