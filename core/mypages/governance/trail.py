"""Reading a trail: one chain's events, filtered by person, action and time, newest first,
a page at a time or all of them as CSV."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select

from mypages.api.calls import csv_cell
from mypages.audit.chain import chain_of
from mypages.audit.models import AuditEvent
from mypages.i18n import _
from mypages.web.inputs import whole_number

PAGE_SIZE = 50
#: the columns of the CSV file, the page's and the API's
COLUMNS = ("time", "person", "person_id", "action", "target", "address", "user_agent",
           "request_id", "api_token_id", "reason", "details", "seq", "hash")
PERSON_MAX = 200


@dataclass(frozen=True)
class Filters:
    """What a reader asked for; ``errors`` say what was not understood (nothing applied)."""

    person: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    before: int | None = None

    def query_values(self) -> dict:
        values = {"person": self.person, "action": self.action,
                  "from": self.since.isoformat() if self.since else "",
                  "to": self.until.isoformat() if self.until else ""}
        return {key: value for key, value in values.items() if value}


def _day(text: str):
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return False


def read_filters(params) -> tuple[Filters, list]:
    """The filters of a query string, and the errors found in it."""
    errors = []
    since, until = _day(params.get("from", "").strip()), _day(params.get("to", "").strip())
    if since is False or until is False:
        errors.append(_("Give dates as year-month-day, such as 2026-03-31."))
        since = until = None
    elif since and until and since > until:
        errors.append(_("The first day must not be after the last day."))
    before = params.get("before", "").strip()
    before_seq = whole_number(before, 1, 2**31 - 1) if before else None
    if before and before_seq is None:
        errors.append(_("That page does not exist; start from the newest events."))
    person = " ".join(params.get("person", "").split())[:PERSON_MAX]
    action = params.get("action", "").strip()[:100]
    return Filters(person, action, since, until, before_seq), errors


def _query(company_id: int | None, filters: Filters, time_zone):
    query = select(AuditEvent).where(AuditEvent.chain_id == chain_of(company_id))
    if filters.person:
        pattern = "%" + filters.person.replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        query = query.where(or_(AuditEvent.actor_label.ilike(pattern, escape="\\"),
                                AuditEvent.target.ilike(pattern, escape="\\")))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), time_zone).astimezone(dt.timezone.utc)

    if filters.since:
        query = query.where(AuditEvent.created_at >= midnight(filters.since))
    if filters.until:
        query = query.where(AuditEvent.created_at < midnight(filters.until + dt.timedelta(1)))
    return query


def page(dbsession, company_id: int | None, filters: Filters, time_zone,
         size: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """A page of events, newest first, and the ``before`` of the next (older) page."""
    size = size or PAGE_SIZE
    query = _query(company_id, filters, time_zone)
    if filters.before is not None:
        query = query.where(AuditEvent.seq < filters.before)
    events = dbsession.scalars(query.order_by(AuditEvent.seq.desc()).limit(size + 1)).all()
    older = events[size - 1].seq if len(events) > size else None
    return events[:size], older


def actions(dbsession, company_id: int | None) -> list[str]:
    return list(dbsession.scalars(select(AuditEvent.action).where(
        AuditEvent.chain_id == chain_of(company_id)).distinct().order_by(AuditEvent.action)))


def row_of(event: AuditEvent) -> dict:
    """An event as the CSV file and the API give it."""
    return {"time": event.created_at.isoformat(), "person": event.actor_label,
            "person_id": event.actor_id, "action": event.action, "target": event.target,
            "address": event.ip, "user_agent": event.user_agent,
            "request_id": event.request_id, "api_token_id": event.api_token_id,
            "reason": event.reason,
            "details": json.dumps(event.details, ensure_ascii=False, sort_keys=True),
            "seq": event.seq, "hash": event.hash}


def csv_lines(dbsession, company_id: int | None, filters: Filters, time_zone,
              batch: int = 1000) -> Iterator[bytes]:
    """Every matching event as CSV (UTF-8, CRLF, a header row), newest first, read a batch
    at a time; a cell a spreadsheet would take for a formula starts with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    query = _query(company_id, filters, time_zone).order_by(AuditEvent.seq.desc())
    before = filters.before
    while True:
        chunk = query if before is None else query.where(AuditEvent.seq < before)
        events = dbsession.scalars(chunk.limit(batch)).all()
        for event in events:
            row = row_of(event)
            writer.writerow([csv_cell(row[column]) for column in COLUMNS])
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
        if len(events) < batch:
            return
        before = events[-1].seq


# -- the REST API -----------------------------------------------------------------------

_TEXT, _NUMBER = {"type": "string"}, {"type": ["integer", "null"]}
EVENT = {
    "type": "object",
    "required": list(COLUMNS),
    "properties": {
        "time": {"type": "string", "format": "date-time"},
        "person": {**_TEXT, "description": "Who acted, named as they were then."},
        "person_id": _NUMBER, "action": _TEXT, "target": _TEXT,
        "address": {**_TEXT, "description": "The client's address."},
        "user_agent": _TEXT, "request_id": _TEXT,
        "api_token_id": {**_NUMBER, "description": "The API token the change was made with."},
        "reason": {**_TEXT, "description": "Why, as the admin who made the change said."},
        "details": {**_TEXT, "description": "The event's details, as a JSON object."},
        "seq": {"type": "integer", "description": "The event's place in the company's chain."},
        "hash": {**_TEXT, "description": "SHA-256 of the event and the hash before it."},
    },
}


def list_events(call) -> list[dict]:
    query = (select(AuditEvent).where(AuditEvent.chain_id == call.company.id)
             .order_by(AuditEvent.seq).limit(call.page.fetch))
    if call.page.after is not None:
        query = query.where(AuditEvent.seq > int(call.page.after))
    return [row_of(event) for event in call.dbsession.scalars(query)]


def add_operations(api) -> None:
    api.add_scope("audit:read", _("Read the company's audit trail"))
    api.add_schema("AuditEvent", EVENT)
    api.add_list("/audit-events", list_events, operation_id="listAuditEvents",
                 scope="audit:read", item="AuditEvent", columns=COLUMNS, order_by="seq",
                 summary=_("The company's audit trail, oldest first"), tags=("audit",))
