"""What a domain function is given instead of a request: a :class:`Work`.

A view translates its request into a call (``lifecycle.activate(work_of(request),
request.company, key)``); a job makes its :class:`Work` from its
:class:`~mypages.contract.JobContext` and the command line from a transaction of
its own, so all three run the same functions and none forges a request.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyramid.registry import Registry
from sqlalchemy.orm import Session

from mypages.audit import request_actor
from mypages.contract import CompanyInfo, UserInfo
from mypages.events import EventContext, via_token
from mypages.services import audit_writer, clock, job_queue


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in person (their record, client address and session id), or,
    without a user, the platform itself (a job, an operator at the command line). A request
    of the REST API acts with a company API token: ``api_token_id``, and ``user`` the
    token's creator (None: an operator's token)."""

    user: UserInfo | None = None
    ip: str = ""
    session_id: str | None = None
    api_token_id: int | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


#: the platform acting on its own: jobs and the command line
PLATFORM = Actor()


@dataclass(frozen=True)
class Work:
    """One unit of work: the session of its transaction, the registry the services are
    found in, and who acts."""

    dbsession: Session
    registry: Registry
    actor: Actor = PLATFORM

    @classmethod
    def of_job(cls, job) -> "Work":
        return cls(job.dbsession, job.registry)

    def now(self) -> dt.datetime:
        return clock(self.registry).now()

    def audit(self, action: str, *, company: CompanyInfo | None = None, target: str = "",
              **details) -> None:
        """Record ``action`` by the actor, in ``company``'s trail, in this transaction."""
        audit_writer(self.registry).record(
            self.dbsession, action, company_id=company.id if company is not None else None,
            actor_id=self.actor.user_id, target=target, ip=self.actor.ip, **details,
            **via_token(self.actor.api_token_id))

    def enqueue(self, name: str, payload: dict | None = None,
                run_after: dt.datetime | None = None, *, dedupe_key: str | None = None):
        """Queue a job in this transaction: it exists only if the work is committed."""
        return job_queue(self.registry).enqueue(self.dbsession, name, payload, run_after,
                                                dedupe_key=dedupe_key)

    def event(self, company: CompanyInfo | None) -> EventContext:
        """What event hooks about ``company`` are given for a change made in this work."""
        return EventContext(self.dbsession, self.registry, self.now(), company, self.actor.user,
                            self.actor.ip, self.actor.api_token_id)


def actor_of(request) -> Actor:
    actor = request_actor(request)  # a token request of the REST API
    if actor is not None:
        return actor
    session = request.user_session
    return Actor(request.user, request.client_addr or "",
                 session.id if session is not None else None)


def work_of(request) -> Work:
    """The view's translation of its request: its transaction, registry and signed-in user."""
    return Work(request.dbsession, request.registry, actor_of(request))
