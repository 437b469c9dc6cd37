"""OCR engines behind one interface, chosen by ``mypages_ocr.engine``.

An engine reads a document (its bytes, and its pages as images) and returns a
:class:`Reading`: per page, lines of words with a confidence (0-100) and a box (left, top,
width, height as ratios of the page, as Textract gives them), and the key fields it found
itself (Textract's AnalyzeExpense and Queries). ``tesseract`` (the default) runs on this
machine; ``textract`` sends the document to AWS (see the operator guide for which data goes
to which region).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from PIL import Image

Box = tuple[float, float, float, float]


@dataclass
class Word:
    text: str
    confidence: float
    box: Box


@dataclass
class Line:
    text: str
    confidence: float
    box: Box
    words: list[Word] = field(default_factory=list)


@dataclass
class PageReading:
    number: int
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float | None:
        words = [word.confidence for line in self.lines for word in line.words]
        return sum(words) / len(words) if words else None

    def as_json(self) -> list[dict]:
        return [{"text": line.text, "confidence": round(line.confidence, 1),
                 "box": [round(v, 5) for v in line.box],
                 "words": [{"text": word.text, "confidence": round(word.confidence, 1),
                            "box": [round(v, 5) for v in word.box]} for word in line.words]}
                for line in self.lines]


@dataclass
class FoundField:
    """A key field an engine found itself (``source``: "expense" or "query")."""

    name: str
    value: str
    confidence: float
    page: int | None
    source: str


@dataclass
class Reading:
    pages: list[PageReading]
    fields: list[FoundField] = field(default_factory=list)


def _keep_nothing(number: int, image: Image.Image) -> None:
    return None


@dataclass
class Source:
    """What an engine reads: the original's bytes and type, its kind ("contract", "invoice",
    "other"), and ``images()``, its pages as images one at a time. An engine that looks at
    the page images hands each to ``keep(number, image)`` (the display image the document
    view shows is made of it), best while it waits for its own reading of the page."""

    data: bytes
    content_type: str
    page_count: int
    kind: str
    images: Callable[[], Iterable[Image.Image]]
    keep: Callable[[int, Image.Image], None] = _keep_nothing


class OcrFailed(Exception):
    """The document cannot be read, and trying again will not change that: ``reason`` is a
    code of :data:`mypages_ocr.reading.REASONS`, shown to the company translated."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


class Engine:
    """Reads documents; ``name`` is what ``mypages_ocr.engine`` calls it."""

    name = ""

    def read(self, source: Source) -> Reading:
        raise NotImplementedError

    def missing(self) -> list:
        """What the engine lacks to read documents, as messages for the operator (the health
        check's): nothing when it can read. Cheap: it runs on every readiness check."""
        return []
