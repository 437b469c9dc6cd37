"""Key fields of leasing contracts and invoices, read from the text.

A field is found by its Swedish label ("Avtalsnummer", "Att betala", "Förfallodatum"...)
with its value after the label on the same line, or on the next line (labels above values,
as in boxes and tables). Each value is checked and written one way (dates as ISO dates,
amounts as ``12345.00``, organisation numbers as ``NNNNNN-NNNN``); its confidence is the
OCR confidence of the line, less where the value was on another line or fails its check
digit. Fields an engine found itself (Textract's AnalyzeExpense and Queries) go first.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from mypages_ocr.engines import FoundField, Reading
from mypages_ocr.i18n import _

#: every field, in the order the document view shows them, with its title
FIELDS = {
    "counterparty": _("Counterparty"),
    "org_number": _("Organisation number"),
    "contract_number": _("Contract number"),
    "invoice_number": _("Invoice number"),
    "object": _("Object leased"),
    "start_date": _("Start date"),
    "end_date": _("End or due date"),
    "monthly_cost": _("Monthly cost"),
    "total": _("Total"),
    "currency": _("Currency"),
    "interest_rate": _("Interest rate (%)"),
}
CONTRACT_FIELDS = ("counterparty", "org_number", "contract_number", "object", "start_date",
                   "end_date", "monthly_cost", "total", "currency", "interest_rate")
INVOICE_FIELDS = ("counterparty", "org_number", "invoice_number", "start_date", "end_date",
                  "total", "currency")

MONTHS = {name: number for number, names in enumerate(
    (("januari", "jan"), ("februari", "feb"), ("mars", "mar"), ("april", "apr"), ("maj",),
     ("juni", "jun"), ("juli", "jul"), ("augusti", "aug"), ("september", "sep", "sept"),
     ("oktober", "okt"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
CURRENCIES = {"kr": "SEK", "kronor": "SEK", "sek": "SEK", "eur": "EUR", "€": "EUR",
              "euro": "EUR", "nok": "NOK", "dkk": "DKK", "usd": "USD", "$": "USD"}

_ORG = re.compile(r"(?<!\d)(\d{6})\s?[-–‐]?\s?(\d{4})(?!\d)")
_NUMBER = re.compile(r"([A-Z0-9][A-Z0-9\-/]{2,39})", re.I)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DOTTED = re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")
_WORDED = re.compile(r"(?<!\d)(\d{1,2})\s+([a-zåäö]+)\.?\s+(\d{4})(?!\d)", re.I)
_MONEY = re.compile(r"(?<![\d,.])(\d{1,3}(?:[  .]\d{3})+|\d+)(?:,(\d{1,2})|\.(\d{2}))?(?![\d])"
                    r"\s*(kr|kronor|SEK|EUR|€|NOK|DKK|USD|\$)?", re.I)
_PERCENT = re.compile(r"(\d{1,2}(?:[,.]\d{1,3})?)\s*%")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        number = int(char) * (2 if index % 2 == 0 else 1)
        total += number - 9 if number > 9 else number
    return total % 10 == 0


def org_number(text: str):
    match = _ORG.search(text)
    if match is None:
        return None
    digits = match.group(1) + match.group(2)
    return f"{match.group(1)}-{match.group(2)}", 1.0 if _luhn_ok(digits) else 0.5


def identifier(text: str):
    match = _NUMBER.search(text)
    if match is None or not re.search(r"\d", match.group(1)):
        return None
    return match.group(1).rstrip("-/"), 1.0


def date(text: str):
    for pattern in (_ISO, _DOTTED, _WORDED):
        match = pattern.search(text)
        if match is None:
            continue
        if pattern is _ISO:
            year, month, day = (int(part) for part in match.groups())
        elif pattern is _DOTTED:
            day, month, year = (int(part) for part in match.groups())
        else:
            month = MONTHS.get(match.group(2).lower())
            if month is None:
                continue
            day, year = int(match.group(1)), int(match.group(3))
        if 1 <= month <= 12 and 1 <= day <= 31 and 1900 < year < 2200:
            return f"{year:04d}-{month:02d}-{day:02d}", 1.0
    return None


def money(text: str):
    for match in _MONEY.finditer(text):
        whole, comma_cents, dot_cents, currency = match.groups()
        try:
            amount = Decimal(re.sub(r"[  .]", "", whole) + "." + (comma_cents or dot_cents or "0"))
        except InvalidOperation:
            continue
        if amount > 0:
            return f"{amount.quantize(Decimal('0.01'))}", 1.0, currency
    return None


def percent(text: str):
    match = _PERCENT.search(text)
    if match is None:
        return None
    return str(Decimal(match.group(1).replace(",", "."))), 1.0


def words(text: str):
    text = text.strip(" :;,.-–")
    return (text, 1.0) if len(text) >= 2 and re.search(r"[A-Za-zÅÄÖåäö]", text) else None


def _tolerant(pattern: str) -> str:
    """OCR sometimes loses the dots and ring of å, ä and ö: a label matches either way."""
    return pattern.replace("å", "[åa]").replace("ä", "[äa]").replace("ö", "[öo]")


def _labels(*patterns: str) -> list[re.Pattern]:
    return [re.compile(r"(?:^|\s)" + _tolerant(pattern) + r"\s*[:.\-–]?\s*", re.I)
            for pattern in patterns]


#: name: (labels in order of preference, value parser)
RULES: dict[str, tuple[list[re.Pattern], Callable]] = {
    "org_number": (_labels(r"org(?:anisations)?\.?\s?-?\s?(?:nummer|nr)\.?",
                           r"organisationsnummer"), org_number),
    "contract_number": (_labels(r"avtalsnummer", r"avtals?\s?nr\.?", r"kontraktsnummer",
                                r"kontrakt\s?nr\.?", r"leasingavtal\s+nr\.?"), identifier),
    "invoice_number": (_labels(r"fakturanummer", r"faktura\s?nr\.?", r"fakturanr\.?"),
                       identifier),
    "start_date": (_labels(r"startdatum", r"avtalsstart", r"leasingstart", r"giltigt\s+från",
                           r"från\s+och\s+med", r"fakturadatum"), date),
    "end_date": (_labels(r"slutdatum", r"avtalsslut", r"giltigt\s+till", r"till\s+och\s+med",
                         r"förfallodatum", r"förfallodag", r"förfaller"), date),
    "monthly_cost": (_labels(r"månadskostnad", r"månadsavgift", r"hyra\s+per\s+månad",
                             r"leasingavgift\s+per\s+månad", r"leasingavgift"), money),
    "total": (_labels(r"att\s+betala", r"totalbelopp", r"totalt\s+belopp", r"total\s+kostnad",
                      r"totalt", r"summa"), money),
    "interest_rate": (_labels(r"räntesats", r"kalkylränta", r"ränta"), percent),
    "counterparty": (_labels(r"leverantör", r"leasegivare", r"uthyrare", r"säljare",
                             r"motpart", r"långivare"), words),
    "object": (_labels(r"leasingobjekt", r"objekt", r"avser"), words),
}


def _lines(reading: Reading) -> list[tuple[int, str, float]]:
    return [(page.number, line.text, line.confidence)
            for page in reading.pages for line in page.lines]


def from_text(lines: list[tuple[int, str, float]], names: Iterable[str]) -> list[FoundField]:
    found: list[FoundField] = []
    currency: FoundField | None = None
    for name in names:
        if name == "currency":
            continue
        labels, parse = RULES[name]
        hit = _find(lines, labels, parse)
        if hit is None:
            continue
        page, value, confidence, money_currency = hit
        found.append(FoundField(name, value, confidence, page, "text"))
        if money_currency and currency is None:
            currency = FoundField("currency", CURRENCIES.get(money_currency.lower(),
                                                             money_currency.upper()),
                                  confidence, page, "text")
    if currency is not None:
        found.append(currency)
    return found


def _find(lines, labels, parse):
    for label in labels:
        for index, (page, text, confidence) in enumerate(lines):
            match = label.search(text)
            if match is None:
                continue
            candidates = [(text[match.end():], 1.0)]
            if index + 1 < len(lines) and lines[index + 1][0] == page:
                candidates.append((lines[index + 1][1], 0.9))
            for candidate, factor in candidates:
                parsed = parse(candidate)
                if parsed:
                    value, check = parsed[0], parsed[1]
                    currency = parsed[2] if len(parsed) > 2 else None
                    return page, value, confidence * factor * check, currency
    return None


def extract_fields(reading: Reading, kind: str) -> list[FoundField]:
    """The key fields of the document: the engine's own first, then those read from the
    text; only the fields of its kind (all for "other")."""
    names = (CONTRACT_FIELDS if kind == "contract" else INVOICE_FIELDS if kind == "invoice"
             else tuple(FIELDS))
    by_engine = {found.name: found for found in reading.fields if found.name in names}
    from_lines = from_text(_lines(reading), [name for name in names if name not in by_engine])
    return [*by_engine.values(), *(found for found in from_lines if found.name not in by_engine)]
