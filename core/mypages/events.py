"""What an event hook is given to act with, the same for a person's request and a job."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mypages.contract import CompanyInfo, UserInfo
from mypages.services import audit_writer, clock, job_queue


def via_token(api_token_id: int | None) -> dict:
    """The audit details that name the API token a change was made with, if any."""
    return {"api_token_id": api_token_id} if api_token_id is not None else {}


@dataclass(frozen=True)
class EventContext:
    """Where an event happens: the transaction of the change, whoever made it.

    ``dbsession`` is the session of the change's transaction (the request's or
    the job's): what a hook writes with it is committed with the change, or
    not at all. ``registry`` is the application's registry, ``now`` the time
    of the change (UTC). ``company`` and ``user`` are those the event is about
    (``user`` is ``None`` when a job made the change); ``ip`` is the client
    address of the request, empty for a job. ``api_token_id`` is the company API
    token the change was made with (its creator is ``user``), else ``None``; every
    event the change audits names it (since hookspec 2.3).
    """

    dbsession: Session
    registry: object
    now: dt.datetime
    company: CompanyInfo | None
    user: UserInfo | None
    ip: str = ""
    api_token_id: int | None = None

    @classmethod
    def of_request(cls, request, company: CompanyInfo | None,
                   user: UserInfo | None) -> "EventContext":
        return cls(request.dbsession, request.registry, clock(request).now(), company, user,
                   request.client_addr or "")

    @classmethod
    def of_job(cls, job, company: CompanyInfo | None) -> "EventContext":
        return cls(job.dbsession, job.registry, job.now, company, None)

    def audit(self, action: str, target: str = "", **details) -> None:
        """Record ``action`` in the audit trail of ``company``, by ``user`` (none for a job),
        in the change's transaction. ``details`` must never hold secrets."""
        audit_writer(self.registry).record(
            self.dbsession, action,
            company_id=self.company.id if self.company is not None else None,
            actor_id=self.user.id if self.user is not None else None, target=target, ip=self.ip,
            **details, **via_token(self.api_token_id))

    def enqueue(self, name: str, payload: dict | None = None,
                run_after: dt.datetime | None = None) -> None:
        """Queue a job of a registered :class:`QueuedJobType` in the change's transaction:
        the job exists only if the change is committed."""
        job_queue(self.registry).enqueue(self.dbsession, name, payload, run_after)
