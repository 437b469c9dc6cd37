"""The view predicate ``form_action=``: one view callable for each action of a form.

A page's forms post their action, and each action is its own view::

    @view_config(route_name="two_factor", form_action="disable", ...)
    def disable_two_factor(request): ...

A view of the same route without ``form_action`` gets every other POST (an unknown
action, say): give it one to refuse those clearly.
"""
from __future__ import annotations

#: the route placeholder, or else the form field, that names the action
ACTION = "action"


def form_action(request) -> str | None:
    """The action a POSTed form asks for: the route's ``{action}`` placeholder if it has one,
    else the form's ``action`` field (a hidden input, or the pressed submit button's
    ``name="action" value="..."``)."""
    matchdict = request.matchdict or {}
    if ACTION in matchdict:
        return matchdict[ACTION]
    asked = request.POST.get(ACTION)
    # a file part is no action: the view that takes the rest refuses it (text_only_view)
    return asked if asked is None or isinstance(asked, str) else ""


class FormActionPredicate:
    """``form_action="name"``: a POST whose form asks for the action ``name`` (see
    :func:`form_action`); with no action named, a form whose field ``name`` has a value (a
    submit button named after its action, whose value says what it acts on)."""

    def __init__(self, name: str, config):
        self.name = name

    def text(self):
        return f"form_action = {self.name}"

    phash = text

    def __call__(self, context, request):
        if request.method != "POST":
            return False
        asked = form_action(request)
        if asked is not None:
            return asked == self.name
        button = request.POST.get(self.name)
        return isinstance(button, str) and button != ""


def includeme(config):
    config.add_view_predicate("form_action", FormActionPredicate)
