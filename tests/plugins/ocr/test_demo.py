"""``mypages demo`` gives the demo company a leasing contract, read by the ocr queue; a
second run changes nothing."""
from __future__ import annotations

from sqlalchemy import select

from mypages.testing.plugin import work_as
from mypages.toolkit import DemoContext
from mypages_ocr import mypages_demo
from mypages_ocr.models import Document, Field


def test_the_demo_company_gets_a_contract_read_once(app, dbsession, run_jobs):
    for _run in range(2):
        with work_as(app) as (work, _company):
            lines = mypages_demo(DemoContext(work))
    assert "exempel-leasingavtal.png" in lines[0]

    run_jobs(queues=["ocr"])
    dbsession.expire_all()
    document = dbsession.scalars(select(Document)).one()
    assert (document.status, document.kind, document.page_count) == ("done", "contract", 1)
    fields = dict(dbsession.execute(select(Field.name, Field.value)
                                    .where(Field.document_id == document.id)).all())
    assert fields["contract_number"] == "LA-2026-0042"
    assert fields["org_number"] == "556036-0793"
    assert fields["monthly_cost"] == "1250.00"
