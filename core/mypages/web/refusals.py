"""The one view that shows a :class:`~mypages.refusals.Refusal`, and the view option that
names the page it is shown on.

A view that handles a form says on which page its refusals are shown::

    @view_config(route_name="module_action", permission="company.admin",
                 renderer="mypages:templates/modules.jinja2", refusal_page=modules_page)

``modules_page(request, errors)`` gives the values of the page for the view's renderer,
``errors`` being the refusal's translation strings. Without ``refusal_page``, a refusal is
shown on the error page, with its title.
"""
from __future__ import annotations

from pyramid.exceptions import ConfigurationError
from pyramid.renderers import render_to_response

from mypages.db import fresh_transaction
from mypages.refusals import Refusal, RefusalShown

def refusal_page_deriver(view, info):
    """The view option ``refusal_page=``: a function ``(request, errors) -> dict`` for the
    view's renderer, showing the form with the refusal's messages."""
    page = info.options.get("refusal_page")
    if page is None:
        return view
    renderer = info.options.get("renderer")
    if renderer is None or renderer.name is None:
        raise ConfigurationError(f"the view {info.original_view!r} names a refusal_page but "
                                 "no renderer to show it with")

    def naming_refusal_page(context, request):
        request.refusal_page = (renderer, page)
        return view(context, request)

    return naming_refusal_page


refusal_page_deriver.options = ("refusal_page",)


class RefusalPredicate:
    """Subscriber predicate ``refusal=SomeRefusal``: only events about that kind of refusal."""

    def __init__(self, kind, config):
        self.kind = kind

    def text(self):
        return f"refusal = {self.kind.__module__}.{self.kind.__qualname__}"

    phash = text

    def __call__(self, event):
        return isinstance(event.refusal, self.kind)


def refused(refusal, request):
    """Nothing the request wrote is kept; what must stay (the refusal's audit event, what the
    subscribers of :class:`RefusalShown` write) is written in transactions of its own."""
    fresh_transaction(request)
    if refusal.audit_event is not None:
        action, details = refusal.audit_event
        request.audit_now(action, company=request.company, **details)
    request.registry.notify(RefusalShown(request, refusal))
    named = request.refusal_page
    if named is not None and not refusal.own_page:
        renderer, page = named
        response = renderer.render_to_response(page(request, refusal.messages), None,
                                               request=request)
    else:
        messages = refusal.messages
        message = messages[0] if len(messages) == 1 else " ".join(map(request.translate, messages))
        response = render_to_response("mypages:templates/error.jinja2", {
            "title": refusal.title, "message": message, "reason": refusal.code,
        }, request=request)
    response.status = refusal.status
    return response


def includeme(config):
    config.add_view_deriver(refusal_page_deriver)
    # (renderer, page) of the view that took the request, if it named one, for refused()
    config.add_request_method(lambda request: None, "refusal_page", reify=True)
    config.add_subscriber_predicate("refusal", RefusalPredicate)
    # narrower than any view for Exception, so it is the one chosen for a refusal
    config.add_view(refused, context=Refusal)
