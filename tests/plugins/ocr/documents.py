"""Swedish test documents made at test time: pages of text drawn with a real font, saved as
PNG, JPEG, TIFF or (image-only, as scanners make them) PDF; and the hard cases a scanner or
a phone makes of them: a crooked scan, a faint one, a photograph at an angle."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"


@dataclass
class Page:
    lines: list[str]
    font: str = FONT
    size: int = 22
    width: int = 1000
    left: int = 60
    #: (column x, line) pairs: lines drawn at another column, for two-column layouts
    at: dict[int, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def draw(page: Page) -> Image.Image:
    font = ImageFont.truetype(page.font, page.size)
    step = int(page.size * 1.7)
    height = max(400, 80 + step * len(page.lines) + 60)
    image = Image.new("RGB", (page.width, height), "white")
    pen = ImageDraw.Draw(image)
    y = 60
    for index, line in enumerate(page.lines):
        pen.text((page.at.get(index, page.left), y), line, fill="black", font=font)
        if index + 1 not in page.at or page.at.get(index + 1, 0) <= page.at.get(index, page.left):
            y += step
    return image


def as_bytes(images: list[Image.Image], kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "pdf":
        images[0].save(buffer, "PDF", resolution=150, save_all=True, append_images=images[1:])
    elif kind == "tiff":
        images[0].save(buffer, "TIFF", save_all=True, append_images=images[1:],
                       compression="tiff_deflate")
    elif kind == "jpeg":
        images[0].save(buffer, "JPEG", quality=90)
    else:
        images[0].save(buffer, "PNG")
    return buffer.getvalue()


def document(pages: list[Page], kind: str = "pdf") -> bytes:
    return as_bytes([draw(page) for page in pages], kind)


def rotated(image: Image.Image, degrees: float = 3.0) -> Image.Image:
    return image.rotate(degrees, expand=True, fillcolor="white", resample=Image.BICUBIC)


def low_contrast(image: Image.Image) -> Image.Image:
    faint = ImageEnhance.Contrast(image).enhance(0.25)
    return ImageEnhance.Brightness(faint).enhance(1.3)


def photographed(image: Image.Image) -> Image.Image:
    """The page as a phone sees it from an angle: a perspective warp on a grey desk."""
    width, height = image.size
    # where the page's corners land (top-left, bottom-left, bottom-right, top-right)
    quad = (0.06 * width, 0.02 * height, 0.0, height, width, height, 0.94 * width,
            0.04 * height)
    warped = image.transform((width, height), Image.QUAD, quad, resample=Image.BICUBIC,
                             fillcolor=(120, 120, 120))
    return ImageEnhance.Brightness(warped).enhance(0.9)


SWEDISH = [
    "Leasingavtal för kontorsutrustning",
    "Köparen förbinder sig att betala hyran i förskott.",
    "Avgiften räknas om när räntan ändras på marknaden.",
    "Överlåtelse av avtalet får ske först efter skriftligt",
    "godkännande från leasegivaren i Örebro.",
    "Säkerhet ställs i form av borgen från ägaren.",
]
SECOND_PAGE = [
    "Särskilda villkor",
    "Utrustningen återlämnas i gott skick vid avtalstidens slut.",
    "Försäkring tecknas av leasetagaren under hela löptiden.",
    "Tvist avgörs av allmän domstol i Göteborg.",
]
