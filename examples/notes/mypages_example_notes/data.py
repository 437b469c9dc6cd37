"""The company's notes in its data export, and gone with it when it is erased."""
from sqlalchemy import delete, select

from mypages.toolkit import hookimpl

from mypages_example_notes.models import Note


@hookimpl
def mypages_company_export(context, company, archive):
    notes = context.dbsession.scalars(select(Note).where(Note.company_id == company.id)
                                      .order_by(Note.id))
    archive.add_rows("notes", [{"id": note.id, "author_id": note.author_id, "text": note.text,
                                "created_at": note.created_at} for note in notes])


@hookimpl
def mypages_company_erase(context, company):
    context.dbsession.execute(delete(Note).where(Note.company_id == company.id))
