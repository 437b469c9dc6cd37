"""A company's information, as its admins keep it on the Company tab: name, organisation
number, postal address, where invoices go, VAT number and default language.

:func:`read_form` checks what the form sent, field by field; :func:`change_information`
saves it and audits what changed as ``company.information_changed``. Either refuses with
:class:`InformationRefused`, which names each field that cannot be saved and why, and then
nothing is changed.

Organisation numbers are Swedish (``NNNNNN-NNNN`` with a Luhn check digit, typed with or
without the hyphen, stored with it). A sole trader's organisation number is their personal
identity number (10 digits), which passes the same check and is accepted: it is the
number Skatteverket and Bolagsverket know the business by. Being a person's number, its
value never goes into the audit trail, only that it changed (nor does a VAT number made of
it). VAT numbers of every EU
country are checked by their own rules (python-stdnum); a Swedish one must be the
organisation number's ``SE`` + 10 digits + ``01`` when both are given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from pyramid.i18n import TranslationString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.se import orgnr

from mypages.companies.models import Company
from mypages.i18n import LANGUAGES, _
from mypages.refusals import Refusal
from mypages.work import Work

#: the fields of the form, in its order, with their longest values (the columns')
FIELDS = {"name": 200, "org_number": 32, "street_address": 200, "postal_code": 16,
          "city": 100, "invoice_email": 254, "vat_number": 20, "default_locale": 10}

#: what each field is called in messages (and on the page)
LABELS = {
    "name": _("Company name"),
    "org_number": _("Organisation number"),
    "street_address": _("Street address"),
    "postal_code": _("Postal code"),
    "city": _("City"),
    "invoice_email": _("Invoice e-mail"),
    "vat_number": _("VAT number"),
    "default_locale": _("Default language"),
}

_SPACES = re.compile(r"\s+")
_SWEDISH_POSTAL_CODE = re.compile(r"^(\d{3}) ?(\d{2})$")
_POSTAL_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z -]*$")


class InformationRefused(Refusal):
    """The company's information cannot be saved: ``fields`` maps each field that is wrong
    to what is wrong with it."""

    def __init__(self, fields: dict[str, TranslationString]):
        super().__init__(list(fields.values()))
        self.fields = fields


@dataclass(frozen=True)
class Information:
    """The company's information as the form gives it, checked and normalised."""

    name: str
    org_number: str | None
    street_address: str | None
    postal_code: str | None
    city: str | None
    invoice_email: str | None
    vat_number: str | None
    default_locale: str


def is_personal_number(number: str | None) -> bool:
    """A sole trader's organisation number, their personal identity number, alone or in a
    Swedish VAT number: the month of a date of birth (01-12) where a legal entity's number
    has 20 or more."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) == 12:
        # SE, the number and 01; or a personal identity number with its century
        digits = digits[:10] if (number or "").upper().startswith("SE") else digits[2:]
    return len(digits) == 10 and digits[2] in "01"


def _line(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def swedish_org_number(value: str) -> str | None:
    """``value`` as a Swedish organisation number, ``NNNNNN-NNNN``, or None if it is none."""
    try:
        return orgnr.format(orgnr.validate(value))
    except ValidationError:
        return None


def _vat_number(value: str) -> str | None:
    try:
        return eu_vat.validate(value)
    except ValidationError:
        return None


def read_form(form) -> Information:
    """The information in ``form`` (a POST's fields), or :class:`InformationRefused` with
    a message for each field that is wrong."""
    values = {name: _line(str(form.get(name, ""))) for name in FIELDS}
    problems: dict[str, TranslationString] = {}
    for name, longest in FIELDS.items():
        if len(values[name]) > longest:
            problems[name] = _("${field}: at most ${count} characters.",
                               mapping={"field": LABELS[name], "count": longest})
    if not values["name"]:
        problems["name"] = _("Type the company's name.")
    org_number = vat_number = invoice_email = postal_code = None
    if values["org_number"] and "org_number" not in problems:
        org_number = swedish_org_number(values["org_number"])
        if org_number is None:
            problems["org_number"] = _(
                "The organisation number is not valid: it has ten digits (NNNNNN-NNNN) and "
                "the last is a check digit. Check it against your registration.")
    if values["vat_number"] and "vat_number" not in problems:
        vat_number = _vat_number(values["vat_number"])
        if vat_number is None:
            problems["vat_number"] = _(
                "The VAT number is not valid: it starts with the country code (SE for "
                "Sweden) and follows that country's rules.")
        elif (vat_number.startswith("SE") and org_number is not None
              and vat_number != (expected := f"SE{org_number.replace('-', '')}01")):
            problems["vat_number"] = _(
                "A Swedish VAT number is SE, the organisation number's ten digits and 01: "
                "${expected} for this organisation number.", mapping={"expected": expected})
    if values["invoice_email"] and "invoice_email" not in problems:
        try:
            invoice_email = validate_email(values["invoice_email"],
                                           check_deliverability=False).normalized
        except EmailNotValidError:
            problems["invoice_email"] = _("Type a valid e-mail address for invoices, such as "
                                          "invoices@example.se.")
    if values["postal_code"] and "postal_code" not in problems:
        swedish = _SWEDISH_POSTAL_CODE.match(values["postal_code"])
        if swedish:
            postal_code = f"{swedish[1]} {swedish[2]}"
        elif _POSTAL_CODE.match(values["postal_code"]):
            postal_code = values["postal_code"].upper()
        else:
            problems["postal_code"] = _("The postal code may hold digits, letters, spaces "
                                        "and hyphens only.")
    if values["default_locale"] not in LANGUAGES:
        problems["default_locale"] = _("Choose one of the languages offered.")
    if problems:
        raise InformationRefused({name: problems[name] for name in FIELDS if name in problems})
    return Information(
        name=values["name"], org_number=org_number,
        street_address=values["street_address"] or None, postal_code=postal_code,
        city=values["city"] or None, invoice_email=invoice_email, vat_number=vat_number,
        default_locale=values["default_locale"])


def change_information(work: Work, company, information: Information) -> list[str]:
    """Save ``information`` as ``company``'s (a :class:`~mypages.contract.CompanyInfo`);
    the names of the fields that changed, audited with their old and new values (not those
    of a personal identity number)."""
    row = work.dbsession.scalars(
        select(Company).where(Company.id == company.id).with_for_update()).one()
    changed, old, new = [], {}, {}
    for name in FIELDS:
        before, after = getattr(row, name), getattr(information, name)
        if before == after:
            continue
        changed.append(name)
        if name not in ("org_number", "vat_number") or not (
                is_personal_number(before) or is_personal_number(after)):
            old[name], new[name] = before, after
        setattr(row, name, after)
    if not changed:
        return []
    try:
        work.dbsession.flush()
    except IntegrityError:
        # the one unique column of companies; the refusal drops the failed transaction
        raise InformationRefused({"org_number": _(
            "Another company here is registered with this organisation number. Contact "
            "support if it is yours.")})
    work.audit("company.information_changed", company=company, target=str(company.id),
               changed=changed, old=old, new=new)
    return changed
