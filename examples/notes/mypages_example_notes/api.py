"""The notes in the REST API: listed (JSON or CSV, paged) with ``notes:read``, added with
``notes:write``. Both belong to the notes module, so they stop working for a company whose
trial has ended."""
from sqlalchemy import select

from mypages.toolkit import ApiProblem

from mypages_example_notes.common import MODULE_KEY, _, ngettext
from mypages_example_notes.models import Note

MAX_LENGTH = 2000

NOTE = {
    "type": "object",
    "required": ["id", "text", "author_id", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "text": {"type": "string"},
        "author_id": {"type": ["integer", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

NEW_NOTE = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH}},
}


def _item(note: Note) -> dict:
    return {"id": note.id, "text": note.text, "author_id": note.author_id,
            "created_at": note.created_at.isoformat()}


def list_notes(call):
    query = (select(Note).where(Note.company_id == call.company.id)
             .order_by(Note.id).limit(call.page.fetch))
    if call.page.after is not None:
        query = query.where(Note.id > int(call.page.after))
    return [_item(note) for note in call.dbsession.scalars(query)]


def add_note(call):
    text = call.body["text"].strip()
    if not text:
        raise ApiProblem("bad-request", ngettext(
            "Write a note of 1 to ${num} character.", "Write a note of 1 to ${num} characters.",
            MAX_LENGTH))
    work = call.work()
    note = Note(company_id=call.company.id, text=text, created_at=work.now(),
                author_id=call.token.created_by.id if call.token.created_by else None)
    call.dbsession.add(note)
    call.dbsession.flush()
    work.audit("notes.note_added", company=call.company, target="note")
    return _item(note)


def add_operations(api) -> None:
    api.add_scope("notes:read", _("Read the company's notes"))
    api.add_scope("notes:write", _("Add notes"))
    api.add_schema("Note", NOTE)
    api.add_schema("NewNote", NEW_NOTE)
    api.add_list("/notes", list_notes, operation_id="listNotes", scope="notes:read",
                 module=MODULE_KEY, summary=_("The company's notes, oldest first"),
                 item="Note", columns=("id", "text", "author_id", "created_at"),
                 tags=("notes",))
    api.add_operation("post", "/notes", add_note, operation_id="addNote", scope="notes:write",
                      module=MODULE_KEY, summary=_("Add a note"),
                      request_body={"$ref": "#/components/schemas/NewNote"},
                      response={"$ref": "#/components/schemas/Note"}, status=201,
                      tags=("notes",))
