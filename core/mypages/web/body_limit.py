"""Request bodies above ``mypages.max_body_size`` are refused before they are read.

A body that says its length (``Content-Length``) is refused at once, unread, with a
translated 413. A body sent in chunks says nothing in advance; its input is read through a
counter that refuses it the moment it grows past the limit, so it is never held whole.
The tween sits outside every other that could read a body (the input checks, the views).

Servers that read the whole body before the application sees it (waitress does) have a
limit of their own to set as well: the operator guide says how.
"""
from __future__ import annotations

from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.services import settings_of

TOO_LARGE = _("What you sent is larger than this site accepts (at most ${size} MB). Send a "
              "smaller file, or fewer at a time.")


class BodyTooLarge(Refusal):
    """The request's body is longer than ``mypages.max_body_size``."""

    status = 413
    title = _("What you sent is too large")
    own_page = True

    @property
    def code(self) -> str:
        return "too-large"


def too_large(limit: int) -> BodyTooLarge:
    megabytes = f"{max(limit / 1024 ** 2, 0.1):.1f}".removesuffix(".0")
    return BodyTooLarge(_(TOO_LARGE, mapping={"size": megabytes}))


class LimitedInput:
    """``wsgi.input`` that refuses to give more than ``limit`` bytes in all."""

    def __init__(self, stream, limit: int):
        self.stream = stream
        self.limit = limit
        self.read_so_far = 0

    def _count(self, chunk: bytes) -> bytes:
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise too_large(self.limit)
        return chunk

    def read(self, size: int = -1) -> bytes:
        # never more than one byte past the limit in memory
        allowed = self.limit + 1 - self.read_so_far
        return self._count(self.stream.read(allowed if size is None or size < 0
                                            else min(size, allowed)))

    def readline(self, size: int = -1) -> bytes:
        allowed = self.limit + 1 - self.read_so_far
        return self._count(self.stream.readline(allowed if size is None or size < 0
                                                else min(size, allowed)))

    def __iter__(self):
        while line := self.readline():
            yield line


def body_limit_tween_factory(handler, registry):
    def body_limit_tween(request):
        limit = settings_of(request).max_body_size
        length = request.content_length
        if length is not None and length > limit:
            raise too_large(limit)
        if length is None and request.is_body_readable:
            environ = request.environ
            environ["wsgi.input"] = LimitedInput(environ["wsgi.input"], limit)
        return handler(request)

    return body_limit_tween
