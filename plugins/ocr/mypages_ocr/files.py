"""What an uploaded file is, told from its content, and its pages as images.

The type comes from the file's first bytes (``filetype``), never from its name or the
browser's word for it; the pages are counted by opening the file (pypdfium2 for PDF, Pillow
for images), so a damaged or password-protected PDF is refused at the upload.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import filetype
import pypdfium2
from PIL import Image, ImageSequence

from mypages.toolkit import format_number

from mypages_ocr.i18n import _, ngettext

PDF, PNG, JPEG, TIFF = "application/pdf", "image/png", "image/jpeg", "image/tiff"
ACCEPTED = {PDF: "pdf", PNG: "png", JPEG: "jpg", TIFF: "tif"}
#: no side of a page image larger than this (Textract's limit too)
MAX_SIDE = 10_000
#: Pillow refuses larger images as decompression bombs; a scanned A4 page at 600 DPI is 35 MP
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


class FileRefused(ValueError):
    """The file cannot be taken: ``message`` (a translation string, a ``Plural`` for a count)
    says why, to the person who sent it."""

    def __init__(self, message, too_large: bool = False):
        super().__init__(message)
        self.message = message
        self.too_large = too_large


@dataclass(frozen=True)
class FileFacts:
    content_type: str
    page_count: int


def content_type_of(head: bytes) -> str | None:
    """The accepted type that ``head`` (the file's first bytes) starts like, or None."""
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ACCEPTED:
        return None
    return kind.mime


def examine(data: bytes) -> FileFacts:
    """The type and number of pages of ``data``; :class:`FileRefused` for anything else."""
    content_type = content_type_of(data[:8192])
    if content_type is None:
        raise FileRefused(_("Only PDF, PNG, JPEG and TIFF files can be read. This file is "
                            "none of them."))
    if content_type == PDF:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError:
            raise FileRefused(_("The PDF cannot be opened: it is damaged or protected by a "
                                "password. Send it without a password.")) from None
        try:
            return FileFacts(content_type, len(document))
        finally:
            document.close()
    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_SIDE:
                raise FileRefused(ngettext(
                    "The image is too large: at most ${num} pixel a side.",
                    "The image is too large: at most ${num} pixels a side.", MAX_SIDE))
            pages = getattr(image, "n_frames", 1)
            image.verify()
    except (OSError, SyntaxError, Image.DecompressionBombError):
        raise FileRefused(_("The image cannot be opened: it is damaged or too large.")) from None
    return FileFacts(content_type, pages)


def take_upload(stream: BinaryIO, max_size: int, max_pages: int,
                locale: str) -> tuple[bytes, FileFacts]:
    """The bytes and facts of an uploaded file, checked against the limits before anything is
    kept: its size (measured before it is read), its type and its number of pages.
    :class:`FileRefused` (``too_large`` set for the size) says what is wrong, its numbers
    written for ``locale``."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise FileRefused(_("The file is empty."))
    if size > max_size:
        raise FileRefused(_("The file is too large: at most ${size} MB.",
                            mapping={"size": format_number(megabytes(max_size), locale)}),
                          too_large=True)
    data = stream.read()
    facts = examine(data)
    if facts.page_count > max_pages:
        raise FileRefused(ngettext(
            "The document has ${num} page; at most ${max} can be read.",
            "The document has ${num} pages; at most ${max} can be read.", facts.page_count,
            {"max": max_pages}))
    if facts.page_count == 0:
        raise FileRefused(_("The document has no pages."))
    return data, facts


def safe_filename(name: str | None) -> str:
    """The last part of a file name as the browser or client gave it, with only letters,
    digits, dots, dashes and spaces (it goes into a Content-Disposition header)."""
    base = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return _UNSAFE_NAME.sub("_", base).strip()[:200] or "document"


def megabytes(size: int) -> float:
    """A size in megabytes, at least 0.1, for a message to format in its language."""
    return max(round(size / 1024 ** 2, 1), 0.1)


def page_images(data: bytes, content_type: str, dpi: int) -> Iterator[Image.Image]:
    """Every page of the document as an RGB image, one at a time: a PDF rendered at ``dpi``
    (pypdfium2), the frames of an image as they are."""
    if content_type == PDF:
        document = pypdfium2.PdfDocument(data)
        try:
            for index in range(len(document)):
                page = document[index]
                try:
                    yield page.render(scale=dpi / 72).to_pil().convert("RGB")
                finally:
                    page.close()
        finally:
            document.close()
        return
    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            yield frame.convert("RGB")


def display_png(image: Image.Image, width: int = 1200) -> bytes:
    """The page as the document view shows it: a PNG at most ``width`` pixels wide. Made
    while the engine reads the page, on the worker's time: bilinear and the fastest
    compression (which is no larger on scanned text)."""
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)),
                             Image.Resampling.BILINEAR, reducing_gap=2.0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
