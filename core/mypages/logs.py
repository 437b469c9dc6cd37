"""Log lines that tell which request wrote them, and may be JSON.

Every request gets an id (``request.request_id``), sent back in the ``X-Request-Id`` header
and added to every log line written while the request is handled. A proxy named in
``mypages.trusted_proxies`` may give the id (its own ``X-Request-Id``), so its access log and
ours say the same; from anyone else the header is ignored, as is an id that is not a short
run of letters, digits and ``._-``.

The formatters are named in the ini file's logging sections, the standard way::

    [formatter_json]
    class = mypages.logs.JsonFormatter
    format = %(asctime)s %(levelname)s %(name)s %(message)s

:class:`JsonFormatter` writes one JSON object a line (python-json-logger) with the fields of
``format`` and ``request_id``; :class:`TextFormatter` lets a plain ``format`` use
``%(request_id)s``.
"""
from __future__ import annotations

import contextvars
import logging
import re
import secrets

from pyramid.tweens import INGRESS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from mypages.client_address import parse_address
from mypages.services import settings_of

__all__ = ["HEADER", "JsonFormatter", "TextFormatter", "current_request_id", "request_id_of"]

HEADER = "X-Request-Id"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("mypages_request_id",
                                                                      default=None)
DEFAULT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def current_request_id() -> str | None:
    """The id of the request being handled in this thread, if any."""
    return _current.get()


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: the fields named in ``format``, the request's id, and the
    exception's traceback where there is one."""

    def __init__(self, fmt=None, *args, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(fmt or DEFAULT_FORMAT, *args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        request_id = current_request_id()
        if request_id is not None:
            log_data["request_id"] = request_id


class TextFormatter(logging.Formatter):
    """``logging.Formatter`` whose ``format`` may use ``%(request_id)s`` (``-`` outside a
    request)."""

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = current_request_id() or "-"
        return super().format(record)


def request_id_of(request) -> str:
    """The id a trusted proxy gave the request, if it gave a valid one; else a new one."""
    given = request.headers.get(HEADER, "")
    if given and _VALID.fullmatch(given):
        trusted = settings_of(request).trusted_proxies
        if trusted.trusts(parse_address(request.environ.get("REMOTE_ADDR", ""))):
            return given
    return secrets.token_hex(16)


def request_id_tween_factory(handler, registry):
    """Outermost: every log line of the request, error pages' included, carries its id."""

    def request_id_tween(request):
        request_id = request.request_id
        token = _current.set(request_id)
        try:
            response = handler(request)
        finally:
            _current.reset(token)
        response.headers[HEADER] = request_id
        return response

    return request_id_tween


def includeme(config):
    config.add_request_method(request_id_of, "request_id", reify=True)
    config.add_tween("mypages.logs.request_id_tween_factory", under=INGRESS)
