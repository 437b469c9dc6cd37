"""The plugin's settings, ``mypages_ocr.*`` in the ini file's ``[app:main]`` section."""
from __future__ import annotations

from dataclasses import dataclass

#: Textract's regions (botocore's endpoint list); it is not offered in eu-north-1
TEXTRACT_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-2", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ap-northeast-2"})
ENGINES = ("tesseract", "textract")
MB = 1024 * 1024


class OcrSettingError(ValueError):
    """A ``mypages_ocr.*`` setting that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class OcrSettings:
    engine: str = "tesseract"
    #: Tesseract's languages
    languages: str = "swe+eng"
    #: resolution PDF pages are rendered at for reading
    dpi: int = 300
    max_file_size: int = 20 * MB
    max_pages: int = 100
    textract_region: str = "eu-west-1"
    textract_endpoint_url: str | None = None
    #: a bucket in the Textract region for multi-page documents; objects are deleted after
    staging_bucket: str | None = None
    staging_endpoint_url: str | None = None
    #: how often a Textract job is asked whether it is done, and for how long
    poll_seconds: float = 5.0
    poll_timeout: float = 900.0


def _int(raw, name, default, low=1):
    value = raw.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise OcrSettingError(f"{name} must be a whole number, not {value!r}") from None
    if number < low:
        raise OcrSettingError(f"{name} must be at least {low}")
    return number


def _float(raw, name, default):
    value = raw.get(name)
    if value in (None, ""):
        return default
    try:
        number = float(str(value).strip())
    except ValueError:
        raise OcrSettingError(f"{name} must be a number of seconds, not {value!r}") from None
    if number < 0:
        raise OcrSettingError(f"{name} cannot be negative")
    return number


def _text(raw, name, default=None):
    value = str(raw.get(name) or "").strip()
    return value or default


def parse(raw) -> OcrSettings:
    engine = _text(raw, "mypages_ocr.engine", "tesseract")
    if engine not in ENGINES:
        raise OcrSettingError(f"mypages_ocr.engine must be one of {', '.join(ENGINES)}, "
                              f"not {engine!r}")
    region = _text(raw, "mypages_ocr.textract.region", "eu-west-1")
    if region not in TEXTRACT_REGIONS:
        raise OcrSettingError(
            f"mypages_ocr.textract.region: Textract is not offered in {region!r}; use one of "
            f"{', '.join(sorted(TEXTRACT_REGIONS))} (eu-west-1, Ireland, is nearest to "
            "eu-north-1)")
    settings = OcrSettings(
        engine=engine,
        languages=_text(raw, "mypages_ocr.languages", "swe+eng"),
        dpi=_int(raw, "mypages_ocr.dpi", 300, low=72),
        max_file_size=_int(raw, "mypages_ocr.max_file_size_mb", 20) * MB,
        max_pages=_int(raw, "mypages_ocr.max_pages", 100),
        textract_region=region,
        textract_endpoint_url=_text(raw, "mypages_ocr.textract.endpoint_url"),
        staging_bucket=_text(raw, "mypages_ocr.textract.staging_bucket"),
        staging_endpoint_url=_text(raw, "mypages_ocr.textract.staging_endpoint_url"),
        poll_seconds=_float(raw, "mypages_ocr.textract.poll_seconds", 5.0),
        poll_timeout=_float(raw, "mypages_ocr.textract.poll_timeout", 900.0),
    )
    if settings.max_pages > 3000 and engine == "textract":
        raise OcrSettingError("mypages_ocr.max_pages: Textract reads at most 3000 pages")
    return settings
