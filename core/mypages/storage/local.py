"""Blobs as files under one directory (``mypages.storage.directory``, ``var/blobs``).

Each file starts with one header line that holds its content type, then the blob's bytes, so
a blob and what is known of it are replaced together by one rename: a new blob is written to
a temporary file beside its place (a name no key can have), flushed to disk, and renamed over
the old one. Readers that opened the old file keep reading it whole.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from mypages.storage import (DEFAULT_CONTENT_TYPE, BlobInfo, BlobNotFound, BlobStore,
                             BlobStream, InvalidBlobKey, check_content_type, check_key,
                             check_prefix, chunks)

MAGIC = b"MYPAGES-BLOB/1 "
TEMPORARY = ".tmp-"


class LocalBlobStore(BlobStore):
    backend = "local"

    def __init__(self, directory: str | os.PathLike):
        self.root = Path(directory).resolve()

    @classmethod
    def from_settings(cls, settings) -> "LocalBlobStore":
        return cls(settings.storage.directory)

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*check_key(key).split("/"))
        # the key's segments allow neither ".." nor absolute paths; this is a second lock
        if self.root not in path.parents:
            raise InvalidBlobKey(f"not a valid blob key: {key!r}")
        return path

    def put(self, key, data, content_type=DEFAULT_CONTENT_TYPE):
        path = self._path(key)
        header = MAGIC + json.dumps({"content_type": check_content_type(content_type)}).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{TEMPORARY}{uuid.uuid4().hex}")
        size = 0
        try:
            with temporary.open("xb") as file:
                file.write(header + b"\n")
                for chunk in chunks(data):
                    file.write(chunk)
                    size += len(chunk)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return BlobInfo(key, size, content_type)

    def _open(self, key: str):
        """(info, the file positioned at the blob's first byte)."""
        path = self._path(key)
        try:
            file = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None
        try:
            header = file.readline()
            if not header.startswith(MAGIC):
                raise OSError(f"{path} is not a blob file")
            meta = json.loads(header[len(MAGIC):])
            size = os.fstat(file.fileno()).st_size - len(header)
        except BaseException:
            file.close()
            raise
        return BlobInfo(key, size, meta["content_type"]), file

    def stream(self, key):
        info, file = self._open(key)
        return BlobStream(info, file)

    def info(self, key):
        info, file = self._open(key)
        file.close()
        return info

    def delete(self, key):
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        self._prune(path.parent)
        return True

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, up to the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                return
            folder = folder.parent

    def _keys(self, prefix: str) -> list[str]:
        # the folder the prefix's last whole segment names; the rest filters by text
        folder_key = check_prefix(prefix).rpartition("/")[0]
        folder = self._path(folder_key) if folder_key else self.root
        if not folder.is_dir():
            return []
        keys = []
        for directory, folders, files in os.walk(folder):
            folders[:] = [name for name in folders if not name.startswith(".")]
            relative = Path(directory).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith("."):  # temporary files
                    continue
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def list(self, prefix=""):
        for key in self._keys(prefix):
            try:
                yield self.info(key)
            except BlobNotFound:  # deleted meanwhile
                continue

    def delete_prefix(self, prefix):
        if not check_prefix(prefix):
            raise InvalidBlobKey("deleting by prefix needs a prefix")
        return sum(self.delete(key) for key in self._keys(prefix))
