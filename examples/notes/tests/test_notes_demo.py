"""The example plugin's demo data: a welcome note in the demo company, once."""
from __future__ import annotations

from sqlalchemy import select

from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import build_app
from mypages_example_notes import DEMO_COMPANY, WELCOME
from mypages_example_notes.models import Note


def test_demo_leaves_one_welcome_note_in_the_demo_company(app, mypages_settings, dbsession):
    dev_app = build_app({**mypages_settings, "mypages.dev_features": "true",
                         "mypages.environment": "development"})
    try:
        cli = OperatorCli(app=dev_app)
        cli("demo")
        lines = cli("demo").stdout.splitlines()
    finally:
        dev_app.registry["db.engine"].dispose()

    assert "notes:" in lines and lines.index("notes:") > lines.index("devtools:")
    notes = dbsession.execute(select(Note.text, Note.company_id)).all()
    assert [text for text, _company in notes] == [WELCOME]
    assert lines[lines.index("notes:") + 1] == (f"  a welcome note in {DEMO_COMPANY} "
                                                "(activate the Notes trial to see it)")
