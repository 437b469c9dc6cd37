"""The local engine: Tesseract (Debian's tesseract-ocr with the swe and eng data).

``swe+eng``: English alone loses å, ä and ö. Each page is one ``tesseract`` process limited
to one thread (``OMP_THREAD_LIMIT=1``), which on a busy machine is faster than letting
it spread over every core; run more workers of the ``ocr`` queue for more throughput.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby

import pytesseract
from PIL import Image

from mypages_ocr.engines import Engine, Line, OcrFailed, PageReading, Reading, Source, Word
from mypages_ocr.i18n import _

LANGUAGES = "swe+eng"
CONFIG = "--psm 3"


def _data(path: str, languages: str) -> dict:
    try:
        return pytesseract.image_to_data(path, lang=languages, config=CONFIG,
                                         output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError:
        raise OcrFailed("engine-missing", "the tesseract program is not installed") from None


def read_image(image: Image.Image, number: int = 1, languages: str = LANGUAGES,
               while_reading: Callable[[], None] | None = None) -> PageReading:
    """What Tesseract reads on one page image: its lines and words, with boxes as ratios.

    The image goes to tesseract in grey (which tesseract reads in anyway: Pillow makes it
    for a fraction of what tesseract's own conversion costs) as an uncompressed PGM file
    (pytesseract would compress a PNG), and ``while_reading()`` runs while the tesseract
    program reads: work of this process that need not wait for it."""
    if image.mode not in ("1", "L"):
        image = image.convert("L")
    with tempfile.NamedTemporaryFile(prefix="mypages-ocr-", suffix=".pnm") as file:
        image.save(file, "PPM")
        file.flush()
        with ThreadPoolExecutor(max_workers=1) as reader:
            reading = reader.submit(_data, file.name, languages)
            if while_reading is not None:
                while_reading()
            data = reading.result()
    width, height = image.size
    words = [i for i, text in enumerate(data["text"])
             if text.strip() and float(data["conf"][i]) >= 0]

    def box(left, top, right, bottom):
        return (left / width, top / height, (right - left) / width, (bottom - top) / height)

    lines = []
    for _key, group in groupby(words, key=lambda i: (data["block_num"][i], data["par_num"][i],
                                                     data["line_num"][i])):
        group = list(group)
        line_words = [Word(data["text"][i].strip(), float(data["conf"][i]),
                           box(data["left"][i], data["top"][i],
                               data["left"][i] + data["width"][i],
                               data["top"][i] + data["height"][i])) for i in group]
        left = min(data["left"][i] for i in group)
        top = min(data["top"][i] for i in group)
        right = max(data["left"][i] + data["width"][i] for i in group)
        bottom = max(data["top"][i] + data["height"][i] for i in group)
        lines.append(Line(" ".join(word.text for word in line_words),
                          sum(word.confidence for word in line_words) / len(line_words),
                          box(left, top, right, bottom), line_words))
    return PageReading(number, lines)


class TesseractEngine(Engine):
    name = "tesseract"
    #: how long what is installed is believed before the health check looks again
    LOOK_AGAIN_SECONDS = 300.0

    def __init__(self, languages: str = LANGUAGES):
        self.languages = languages
        self._installed: tuple[float, str | None, frozenset] | None = None
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    def _look(self) -> tuple[str | None, frozenset]:
        """The tesseract program and its languages, looked up at most every few minutes."""
        if self._installed is None or (time.monotonic() - self._installed[0]
                                       > self.LOOK_AGAIN_SECONDS):
            program = shutil.which(pytesseract.pytesseract.tesseract_cmd)
            try:
                languages = frozenset(pytesseract.get_languages()) if program else frozenset()
            except (pytesseract.TesseractError, OSError):
                languages = frozenset()
            self._installed = (time.monotonic(), program, languages)
        return self._installed[1], self._installed[2]

    def missing(self) -> list:
        program, installed = self._look()
        if program is None:
            return [_("The tesseract program is not installed (Debian: tesseract-ocr).")]
        lacking = [code for code in self.languages.split("+") if code not in installed]
        if lacking:
            return [_("Tesseract lacks the language data ${languages} (Debian: "
                      "tesseract-ocr-<language>).", mapping={"languages": ", ".join(lacking)})]
        return []

    def read(self, source: Source) -> Reading:
        pages = []
        for number, image in enumerate(source.images(), start=1):
            pages.append(read_image(image, number, self.languages,
                                    while_reading=lambda: source.keep(number, image)))
        return Reading(pages)
