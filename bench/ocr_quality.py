"""How well Tesseract (swe+eng, as the OCR plugin runs it) reads generated Swedish pages:
clean, a crooked scan, a faint scan, a page photographed at an angle. Prints the character
similarity of each to the text drawn (1.0 is every character right).

    python -m bench.ocr_quality
"""
from __future__ import annotations

import time
from difflib import SequenceMatcher

from mypages_ocr.engines.tesseract import read_image

from tests.plugins.ocr.documents import (SECOND_PAGE, SWEDISH, Page, draw, low_contrast,
                                         photographed, rotated)

CASES = {
    "clean": lambda image: image,
    "rotated 3°": lambda image: rotated(image, 3.0),
    "low contrast": low_contrast,
    "photographed (perspective)": photographed,
}


def similarity(read: str, truth: str) -> float:
    return SequenceMatcher(None, " ".join(read.split()), " ".join(truth.split())).ratio()


def main() -> None:
    pages = [Page(SWEDISH, size=30, width=1400), Page(SECOND_PAGE, size=30, width=1400)]
    print(f"{'case':30} {'similarity':>10} {'s/page':>7}")
    for name, make in CASES.items():
        scores, started = [], time.perf_counter()
        for page in pages:
            scores.append(similarity(read_image(make(draw(page))).text, page.text))
        seconds = (time.perf_counter() - started) / len(pages)
        print(f"{name:30} {sum(scores) / len(scores):10.3f} {seconds:7.2f}")


if __name__ == "__main__":
    main()
