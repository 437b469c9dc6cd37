"""What a request must be before any view reads it.

* :func:`input_tween_factory`: the path, and the parameters of the query string and of a form,
  are valid UTF-8 without NUL or other control characters (a parameter may hold tab, CR and
  LF, as a textarea sends them; the views that take one line strip or refuse them); anything
  else is refused with a translated 400 before routing, so no view, route factory or database
  sees it (PostgreSQL refuses NUL; WebOb would turn invalid UTF-8 into replacement characters
  that end up stored).
* :func:`text_only_view`: a form sends text, not files, unless its view is configured with
  ``accept_files=True`` (WebOb gives a file part as a ``FieldStorage``, which no text
  handling survives).
* the ``ids`` route predicate: the named placeholders are ids (:func:`as_id`), or the route
  does not match (404). ``add_company_route`` applies it to every ``{..._id}`` of a pattern.
"""
from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import unquote_to_bytes

from webob.compat import cgi_FieldStorage

from mypages.i18n import _
from mypages.refusals import Refusal

#: ids are PostgreSQL ``integer`` columns
MAX_ID = 2 ** 31 - 1
_DIGITS = re.compile(r"[0-9]{1,18}")
#: C0 controls and DEL; in a parameter's value, tab, LF and CR are text
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FIELD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

ADDRESS_REFUSED = _("The address of this page is not valid. Check it, or start again from "
                    "the start page.")
TEXT_REFUSED = _("The form or the address contains characters that are not allowed (control "
                 "characters, or text that is not UTF-8). Remove them and try again.")
FILE_REFUSED = _("The form sent a file where text was expected.")


class InvalidInput(Refusal):
    """Refused before any view read it: a refusal, shown translated with 400 on the error
    page."""

    title = _("The request cannot be used")
    own_page = True

    @property
    def code(self) -> str:
        return "invalid-input"


_PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def id_placeholders(pattern: str) -> tuple[str, ...]:
    """The ``{..._id}`` placeholders of a route pattern."""
    return tuple(name for name in _PLACEHOLDER.findall(pattern) if name.endswith("_id"))


def whole_number(value, low: int, high: int) -> int | None:
    """``value`` as a whole number from ``low`` to ``high`` (ASCII digits only: ``"²"`` is a
    digit to ``str.isdigit`` but not to ``int``), else None."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def as_id(value) -> int | None:
    """``value`` as an id (1 to :data:`MAX_ID`), else None."""
    return whole_number(value, 1, MAX_ID)


class IdsPredicate:
    """Route predicate ``ids=("company_id", ...)``: each named placeholder is an id."""

    def __init__(self, names, config):
        self.names = (names,) if isinstance(names, str) else tuple(names)

    def text(self) -> str:
        return f"ids = {self.names}"

    phash = text

    def __call__(self, info, request) -> bool:
        match = info["match"]
        return all(as_id(match.get(name)) is not None for name in self.names)


def _text(raw: bytes, control=CONTROL) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return control.search(text) is None


def _urlencoded_ok(raw: bytes, control) -> bool:
    if not raw:
        return True
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            if not _text(unquote_to_bytes(part.replace(b"+", b" ")), control):
                return False
    return True


def _multipart_ok(request) -> bool:
    """Every text part decodes strictly (WebOb replaces what does not) and has no control
    characters; file parts are left to :func:`text_only_view`."""
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": request.environ.get("CONTENT_TYPE", ""),
               "CONTENT_LENGTH": str(len(request.body)), "QUERY_STRING": ""}
    try:
        parsed = cgi_FieldStorage(fp=BytesIO(request.body), environ=environ,
                                  keep_blank_values=True, encoding="utf8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return False
    for part in parsed.list or ():
        if part.name is None:  # a part with no Content-Disposition name is no field
            return False
        if not _text(part.name.encode("utf-8", "surrogateescape"), CONTROL):
            return False
        if not part.filename and not isinstance(part.value, str):
            return False
        if not part.filename and FIELD_CONTROL.search(part.value):
            return False
    return True


def path_ok(environ) -> bool:
    """The path is UTF-8 without control characters (PATH_INFO holds its bytes as latin-1)."""
    return _text(environ.get("PATH_INFO", "").encode("latin-1"))


def refusal(request):
    """The message for what is wrong with the request's input, or None if nothing is."""
    environ = request.environ
    if not path_ok(environ):
        return ADDRESS_REFUSED
    if not _urlencoded_ok(environ.get("QUERY_STRING", "").encode("latin-1"), FIELD_CONTROL):
        return TEXT_REFUSED
    content_type = request.content_type
    if content_type == FORM_TYPES[0] and not _urlencoded_ok(request.body, FIELD_CONTROL):
        return TEXT_REFUSED
    if content_type == FORM_TYPES[1] and not _multipart_ok(request):
        return TEXT_REFUSED
    return None


def input_tween_factory(handler, registry):
    def input_tween(request):
        message = refusal(request)
        if message is not None:
            raise InvalidInput(message)
        return handler(request)

    return input_tween


def text_only_view(view, info):
    """Refuse file parts in the form of a view not configured with ``accept_files=True``."""
    if info.options.get("accept_files"):
        return view

    def text_only(context, request):
        if (request.exception is None and request.content_type == FORM_TYPES[1]
                and any(not isinstance(value, str) for value in request.POST.values())):
            raise InvalidInput(FILE_REFUSED)
        return view(context, request)

    return text_only


text_only_view.options = ("accept_files",)
