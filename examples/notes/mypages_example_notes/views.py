from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.toolkit import get_module_settings, save_module_settings

from mypages_example_notes import MODULE_KEY, _
from mypages_example_notes.common import ngettext
from mypages_example_notes.models import Note

MAX_LENGTH = 2000


def notes_page(request, error=None, text=""):
    notes = request.dbsession.scalars(
        select(Note).where(Note.company_id == request.company.id)
        .order_by(Note.created_at.desc(), Note.id.desc()).limit(200))
    return {"notes": list(notes), "error": error, "text": text,
            "heading": get_module_settings(request, MODULE_KEY).get("heading", "")}


@view_config(route_name="notes", module=MODULE_KEY, permission="company.view",
             request_method="GET", renderer="mypages_example_notes:templates/notes.jinja2")
def notes(request):
    return notes_page(request)


@view_config(route_name="notes", module=MODULE_KEY, permission="company.view",
             request_method="POST", renderer="mypages_example_notes:templates/notes.jinja2")
def add_note(request):
    text = request.POST.get("text", "").strip()
    if not text or len(text) > MAX_LENGTH:
        request.response.status = 400
        return notes_page(request, ngettext(
            "Write a note of 1 to ${num} character.", "Write a note of 1 to ${num} characters.",
            MAX_LENGTH), text)
    request.dbsession.add(Note(company_id=request.company.id, author_id=request.user.id, text=text))
    request.audit("notes.note_added", target="note")
    return HTTPSeeOther(request.route_url("notes", company_id=request.company.id))


@view_config(route_name="notes_settings", module=MODULE_KEY, permission="company.admin",
             request_method="GET", renderer="mypages_example_notes:templates/settings.jinja2")
def settings(request):
    return {"heading": get_module_settings(request, MODULE_KEY).get("heading", ""), "error": None}


@view_config(route_name="notes_settings", module=MODULE_KEY, permission="company.admin",
             request_method="POST", renderer="mypages_example_notes:templates/settings.jinja2")
def save_settings(request):
    heading = request.POST.get("heading", "").strip()
    if len(heading) > 100:
        request.response.status = 400
        return {"heading": heading, "error": _("The heading can be at most 100 characters.")}
    save_module_settings(request, MODULE_KEY, {"heading": heading})
    request.audit("notes.settings_changed", target=MODULE_KEY)
    return HTTPSeeOther(request.route_url("notes_settings", company_id=request.company.id))
