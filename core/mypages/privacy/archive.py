"""The archive a data export is written to: a zip of JSON and CSV files per kind of row,
the files plugins add, the company's stored blobs, and a manifest of it all."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import BinaryIO

from mypages.api.calls import csv_cell
from mypages.storage import CHUNK_SIZE, chunks

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,79}")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=+-]{0,127}")


def plain(value):
    """A value as JSON keeps it: times in ISO 8601 (UTC), decimals as text."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=plain, sort_keys=False)


class ExportArchive:
    """What a plugin adds its data to in ``mypages_company_export`` (since hookspec 2.4):
    a folder of the archive of its own (named after the plugin).

    ``add_rows(kind, rows)`` writes ``<kind>.json`` (a list of objects) and ``<kind>.csv``
    (a header row of every key, then a row each; a cell a spreadsheet would take for a
    formula starts with ``'``); values are plain (text, numbers, booleans, ``None``, times,
    decimals, lists and dicts, which the CSV holds as JSON). ``add_file(name, data)`` adds
    bytes or a binary file as ``files/<name>`` (``name``: segments of letters, digits and
    ``._=+-``, separated by ``/``). A kind or file added twice is refused."""

    def __init__(self, zip_file: zipfile.ZipFile, folder: str,
                 manifest: dict | None = None, step: Callable[[], None] | None = None):
        self._zip = zip_file
        self.folder = folder.strip("/")
        self._manifest = manifest if manifest is not None else {"files": {}}
        self._step = step or (lambda: None)

    def scoped(self, folder: str) -> "ExportArchive":
        """The same archive, writing under another folder."""
        return ExportArchive(self._zip, folder, self._manifest, self._step)

    def _path(self, name: str) -> str:
        path = f"{self.folder}/{name}" if self.folder else name
        if path in self._manifest["files"]:
            raise ValueError(f"{path} is in the archive already")
        return path

    def add_rows(self, kind: str, rows: Iterable[dict]) -> int:
        """Write the rows of ``kind`` as JSON and CSV; how many there were."""
        if not isinstance(kind, str) or not _NAME.fullmatch(kind):
            raise ValueError(f"not a kind of rows: {kind!r} (lower-case letters, digits, _.-)")
        rows = [{key: plain(value) for key, value in row.items()} for row in rows]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        json_path, csv_path = self._path(f"{kind}.json"), self._path(f"{kind}.csv")
        self._zip.writestr(json_path, _json(rows))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(json.dumps(row.get(column), ensure_ascii=False,
                                                 default=plain)
                                      if isinstance(row.get(column), (list, dict))
                                      else row.get(column)) for column in columns])
        self._zip.writestr(csv_path, out.getvalue())
        self._manifest["files"][json_path] = {"kind": kind, "rows": len(rows)}
        self._manifest["files"][csv_path] = {"kind": kind, "rows": len(rows)}
        self._step()
        return len(rows)

    def add_file(self, name: str, data: bytes | BinaryIO) -> int:
        """Add ``data`` as ``files/<name>``; its size in bytes."""
        if not isinstance(name, str) or not all(_SEGMENT.fullmatch(part)
                                                for part in name.split("/")):
            raise ValueError(f"not a file name: {name!r}")
        return self._add(f"files/{name}", data)

    def _add(self, name: str, data: bytes | BinaryIO) -> int:
        path = self._path(name)
        size = 0
        with self._zip.open(path, "w", force_zip64=True) as out:
            for chunk in chunks(data):
                out.write(chunk)
                size += len(chunk)
        self._manifest["files"][path] = {"bytes": size}
        self._step()
        return size

    def add_blob(self, name: str, stream) -> int:
        """The core's: a stored blob, read in chunks."""
        path = self._path(name)
        size = 0
        with self._zip.open(path, "w", force_zip64=True) as out:
            while chunk := stream.read(CHUNK_SIZE):
                out.write(chunk)
                size += len(chunk)
        self._manifest["files"][path] = {"bytes": size, "content_type": stream.info.content_type}
        self._step()
        return size

    def finish(self, about: dict) -> None:
        """Write ``manifest.json``: ``about`` the export and every file with its rows or
        bytes."""
        self._zip.writestr("manifest.json", _json({**about, **self._manifest}))
