"""Refusals: a request turned down for a reason the person can act on.

Domain code raises :class:`Refusal` with a translation string; one
exception view (:mod:`mypages.web.refusals`) drops everything the request
wrote and shows the message in the person's language, with the refusal's
status. It shows it on the page of the form that was sent, where the view
names that page (the ``refusal_page=`` view option), else on the error page.
What must stay on record all the same is written in a transaction of its
own (:func:`mypages.db.committed_on_its_own`) once the request's writes are
dropped: an audit event the refusal asks for (:meth:`Refusal.audited`), and
whatever the subscribers of :class:`RefusalShown` write (a used-up sign-in
attempt).

This module sits below every domain, so any of them may raise a refusal.
"""
from __future__ import annotations

from collections.abc import Sequence

from pyramid.i18n import TranslationString

from mypages.i18n import _


class Refusal(Exception):
    """Raise it to refuse the request: ``message`` (a translation string, or a list of them
    for several problems with one form) is shown to the person in their language, with the
    HTTP ``status``, and nothing the request wrote is kept.

    Subclasses may set ``status``, ``title`` (the heading of the error page) and
    ``own_page``, and override :attr:`code`.
    """

    #: the HTTP status of the answer
    status: int = 400
    #: the heading of the error page, where the view names no page of its own
    title: TranslationString = _("This cannot be done")
    #: shown on the error page even where the view names a page of its own
    own_page: bool = False
    #: (action, details) to put on record though the request is refused; see :meth:`audited`
    audit_event: tuple[str, dict] | None = None

    def __init__(self, message: TranslationString | Sequence[TranslationString], *,
                 status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def messages(self) -> list[TranslationString]:
        """What is shown, one entry a problem."""
        if isinstance(self.message, (list, tuple)):
            return list(self.message)
        return [self.message]

    @property
    def code(self) -> str:
        """A short, stable name of this kind of refusal, on the error page."""
        return "refused"

    def audited(self, action: str, **details) -> "Refusal":
        """Keep the refusal on record: the refusal view writes the audit event ``action``
        (by the signed-in user, in the request's company) in a transaction of its own,
        once the request's writes are dropped. Details must hold no secrets. Returns the
        refusal, for ``raise Refusal(...).audited(...)``."""
        self.audit_event = (action, details)
        return self


class RefusalShown:
    """Pyramid event: the refusal view is about to show ``refusal``. The request's writes are
    already dropped; a subscriber records what must stay (with
    :func:`mypages.db.committed_on_its_own`). Subscribe with
    ``config.add_subscriber(func, RefusalShown, refusal=SomeRefusal)`` to hear of one kind
    only."""

    def __init__(self, request, refusal: Refusal):
        self.request = request
        self.refusal = refusal
