"""Blob storage: files of any size kept under a key, with their size and content type.

One interface, :class:`BlobStore`, two backends chosen by ``mypages.storage.backend``:

* ``local`` (the default): files under ``mypages.storage.directory`` (``var/blobs``), each
  written to a temporary file and renamed into place, so a reader never sees half a blob;
* ``s3``: a bucket through boto3, with server-side encryption, installed with the
  ``mypages[s3]`` extra. A deployment without it never imports boto3.

Plugins and domains reach blobs through :func:`blob_store`, which always scopes them: to one
company (``companies/<id>/``) or to the platform (``platform/``). A key is checked before any
backend sees it, so no key leaves its scope or the storage directory.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from mypages.services import find, settings_of
from mypages.settings import InvalidSetting

__all__ = ["BACKENDS", "BlobInfo", "BlobNotFound", "BlobStore", "BlobStream", "InvalidBlobKey",
           "ScopedBlobStore", "blob_store", "check_key", "check_prefix", "root_store"]

#: the backends of ``mypages.storage.backend``, by the dotted name of their class
BACKENDS = {"local": "mypages.storage.local.LocalBlobStore",
            "s3": "mypages.storage.s3.S3BlobStore"}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
CHUNK_SIZE = 64 * 1024
#: S3 allows 1024 bytes; the scope's prefix and the bucket's own prefix need some of them
MAX_KEY_LENGTH = 512
# a segment starts with a letter or digit: no ".", "..", hidden or temporary names
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=+-]{0,127}")
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+\"-]+)*", re.ASCII)


class InvalidBlobKey(ValueError):
    """A key (or prefix) that is not ``segment/segment/...`` of letters, digits and ``._=+-``,
    each segment starting with a letter or digit. Raised before any backend sees the key."""


class BlobNotFound(KeyError):
    """No blob under this key."""


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob: its key (within the store it was asked of), size in bytes and content
    type."""

    key: str
    size: int
    content_type: str


def check_key(key: str) -> str:
    """``key`` if it is a valid key, else :class:`InvalidBlobKey`."""
    if (not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH
            or not all(_SEGMENT.fullmatch(segment) for segment in key.split("/"))):
        raise InvalidBlobKey(f"not a valid blob key: {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """``prefix`` if it is empty, a key, or a key ending in ``/``; else :class:`InvalidBlobKey`."""
    if prefix == "":
        return prefix
    check_key(prefix[:-1] if isinstance(prefix, str) and prefix.endswith("/") else prefix)
    return prefix


def check_content_type(content_type: str) -> str:
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError(f"not a content type: {content_type!r}")
    return content_type


class BlobStream:
    """An open blob, read in chunks: iterate over it (a WSGI ``app_iter`` as it is), or
    ``read(n)``; close it, or use it in a ``with`` block."""

    def __init__(self, info: BlobInfo, reader, chunk_size: int = CHUNK_SIZE):
        self.info = info
        self._reader = reader
        self._chunk_size = chunk_size

    def read(self, size: int = -1) -> bytes:
        return self._reader.read(size)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._reader.read(self._chunk_size):
            yield chunk

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> "BlobStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BlobStore:
    """Where blobs are kept. Keys are checked with :func:`check_key`; every method raises
    :class:`InvalidBlobKey` for a bad one before anything is read or written."""

    #: the backend's name, as ``mypages.storage.backend`` says it
    backend = ""

    def put(self, key: str, data: bytes | BinaryIO,
            content_type: str = DEFAULT_CONTENT_TYPE) -> BlobInfo:
        """Store ``data`` (bytes, or a binary file read to its end in chunks) under ``key``,
        replacing what was there; readers see the old blob or the new one, never a mix."""
        raise NotImplementedError

    def get(self, key: str) -> tuple[BlobInfo, bytes]:
        """The whole blob; :class:`BlobNotFound` if there is none. Large blobs: :meth:`stream`."""
        with self.stream(key) as stream:
            return stream.info, stream.read()

    def stream(self, key: str) -> BlobStream:
        """The blob opened for reading in chunks; :class:`BlobNotFound` if there is none."""
        raise NotImplementedError

    def info(self, key: str) -> BlobInfo:
        """Size and content type, without reading the blob; :class:`BlobNotFound` if none."""
        raise NotImplementedError

    def delete(self, key: str) -> bool:
        """Delete the blob; whether there was one."""
        raise NotImplementedError

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Every blob whose key starts with ``prefix``, in key order."""
        raise NotImplementedError

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with ``prefix``; how many. An empty prefix is
        refused (:class:`InvalidBlobKey`): it would be everything."""
        raise NotImplementedError


class ScopedBlobStore(BlobStore):
    """The blobs under ``scope`` (``companies/7/``) of another store: keys given and returned
    are relative to it, and cannot leave it."""

    def __init__(self, store: BlobStore, scope: str):
        self.store = store
        self.scope = check_prefix(scope)
        self.backend = store.backend

    def _key(self, key: str) -> str:
        return self.scope + check_key(key)

    def _info(self, info: BlobInfo) -> BlobInfo:
        return BlobInfo(info.key[len(self.scope):], info.size, info.content_type)

    def put(self, key, data, content_type=DEFAULT_CONTENT_TYPE):
        return self._info(self.store.put(self._key(key), data, content_type))

    def stream(self, key):
        stream = self.store.stream(self._key(key))
        stream.info = self._info(stream.info)
        return stream

    def info(self, key):
        return self._info(self.store.info(self._key(key)))

    def delete(self, key):
        return self.store.delete(self._key(key))

    def list(self, prefix=""):
        return (self._info(info) for info in self.store.list(self.scope + check_prefix(prefix)))

    def delete_prefix(self, prefix):
        if not check_prefix(prefix):
            # within a scope, everything in it: the way to erase a company's blobs
            return self.store.delete_prefix(self.scope)
        return self.store.delete_prefix(self.scope + prefix)


def root_store(where) -> BlobStore:
    """The application's :class:`BlobStore`, unscoped: for the core's own use (the health
    check's probe). Everything else goes through :func:`blob_store`."""
    return find(where, BlobStore)


def blob_store(where, company) -> BlobStore:
    """The blobs of ``company`` (a :class:`~mypages.contract.CompanyInfo`, or anything with
    an ``id``), or with ``company=None`` the platform's own: a :class:`BlobStore` whose keys
    all live under ``companies/<id>/`` (``platform/``). ``where`` is the registry, a request,
    or a job's or an event's context."""
    if company is None:
        scope = "platform/"
    else:
        company_id = company.id if not isinstance(company, int) else company
        if not isinstance(company_id, int) or isinstance(company_id, bool) or company_id < 1:
            raise ValueError(f"not a company: {company!r}")
        scope = f"companies/{company_id}/"
    return ScopedBlobStore(root_store(where), scope)


def chunks(data: bytes | BinaryIO) -> Iterable[bytes]:
    """``data`` in chunks: bytes as they are, a file read to its end."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    while chunk := data.read(CHUNK_SIZE):
        yield chunk


def make_store(settings) -> BlobStore:
    """The backend ``mypages.storage.backend`` names, built from the typed settings. Only the
    chosen backend's module is imported: the S3 one needs the ``s3`` extra (boto3)."""
    module_name, _, class_name = BACKENDS[settings.storage.backend].rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name not in ("boto3", "botocore"):
            raise
        raise InvalidSetting("mypages.storage.backend = s3 needs boto3: install the s3 extra "
                             "(pip install 'mypages[s3]')") from None
    return getattr(module, class_name).from_settings(settings)


def includeme(config):
    config.register_service(make_store(settings_of(config)), BlobStore)
