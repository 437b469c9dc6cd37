"""What an API view is given (:class:`ApiCall`), and the pages and CSV of lists."""
from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import hmac
import io
import json
import re
from dataclasses import dataclass
from functools import cached_property

from mypages.api.document import ApiOperation
from mypages.api.problems import ApiProblem, api_localizer
from mypages.api.tokens import Authenticated
from mypages.i18n import _
from mypages.services import settings_of
from mypages.work import Actor, Work

#: a spreadsheet takes a cell that starts with one of these for a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a decimal number written as text (an exact rate, a negative one too) is no formula
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Page:
    """Which page of a list is asked for: the items after ``after`` (the ordering value of
    the last item of the page before; None for the first page), ``limit`` of them. A view
    returns up to ``fetch`` (one more than ``limit``, so the core knows if more follow)."""

    after: object
    limit: int

    @property
    def fetch(self) -> int:
        return self.limit + 1


class ApiCall:
    """One call of an API operation, as its view sees it: validated and typed.

    ``company`` and ``token`` are the token's (never a browser session's); ``query``,
    ``path`` and ``body`` hold the parameters and JSON body as the document describes them;
    ``page`` is the :class:`Page` of a list; ``request`` is the Pyramid request (for
    ``dbsession``); :meth:`work` acts with the token.
    """

    def __init__(self, request, operation: ApiOperation, auth: Authenticated, query: dict,
                 path: dict, body, page: Page | None):
        self.request = request
        self.operation = operation
        self.auth = auth
        self.company = auth.company
        self.token = auth.token
        self.query = query
        self.path = path
        self.body = body
        self.page = page

    @property
    def dbsession(self):
        return self.request.dbsession

    @property
    def actor(self) -> Actor:
        """The token's creator, acting with the token from the caller's address."""
        return Actor(self.token.created_by, self.request.client_addr or "",
                     api_token_id=self.token.id)

    def work(self) -> Work:
        """A :class:`~mypages.work.Work` in the request's transaction, acting with the token:
        what it audits names the token and its creator."""
        return Work(self.request.dbsession, self.request.registry, self.actor)

    @cached_property
    def localizer(self):
        """The caller's language's localizer, found once for the call (a list translates a
        title per item)."""
        return api_localizer(self.request)

    def translate(self, message) -> str:
        return self.localizer.translate(message)


# -- cursors ---------------------------------------------------------------------

def _cursor_key(registry) -> bytes:
    return hashlib.sha256(b"mypages api cursor\0" + settings_of(registry).secret.encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(registry, operation_id: str, value) -> str:
    """An opaque cursor after ``value``, signed so that a changed one is refused, and bound
    to its list."""
    payload = json.dumps([operation_id.removesuffix("Csv"), value], separators=(",", ":"))
    signature = hmac.new(_cursor_key(registry), payload.encode(), hashlib.sha256).digest()[:16]
    return _b64(payload.encode()) + "." + _b64(signature)


def decode_cursor(registry, operation_id: str, cursor: str):
    """The value a cursor of this list was made after; a problem for any other string."""
    invalid = ApiProblem("invalid-cursor", _("Use the next_cursor of the page before, "
                                             "unchanged."))
    payload_text, _dot, signature_text = cursor.partition(".")
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise invalid from None
    expected = hmac.new(_cursor_key(registry), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(expected, signature):
        raise invalid
    name, value = json.loads(payload)
    if name != operation_id.removesuffix("Csv"):
        raise invalid
    return value


# -- CSV -------------------------------------------------------------------------

def csv_cell(value) -> str:
    """A cell as text; text a spreadsheet would take for a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def csv_text(columns: tuple[str, ...], items: list[dict]) -> str:
    """The items as CSV with a header row of the column names (RFC 4180, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for item in items:
        writer.writerow([csv_cell(item.get(column)) for column in columns])
    return out.getvalue()
