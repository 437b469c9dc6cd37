"""The audit trail: who did what, when, from where, in which company.

Events are written in the same transaction as the change they describe, so
a change and its audit event are committed together or not at all.
Details must never hold secrets. The :class:`~mypages.services.AuditWriter`
service writes them; ``request.audit`` fills in the request's company, user
and client address.
"""
from __future__ import annotations

from mypages.audit.models import AuditEvent
from mypages.db import committed_on_its_own
from mypages.services import AuditWriter, audit_writer

_UNSET = object()


def record(dbsession, action: str, *, company_id=None, actor_id=None, target: str = "",
           ip: str = "", **details) -> AuditEvent:
    event = AuditEvent(company_id=company_id, actor_id=actor_id, action=action,
                       target=str(target), ip=ip, details=details)
    dbsession.add(event)
    return event


class DatabaseAuditWriter(AuditWriter):
    """Audit events as rows of ``audit_events``."""

    def __init__(self, registry):
        self.registry = registry

    def record(self, dbsession, action: str, *, company_id=None, actor_id=None,
               target: str = "", ip: str = "", **details) -> AuditEvent:
        return record(dbsession, action, company_id=company_id, actor_id=actor_id,
                      target=target, ip=ip, **details)

    def record_now(self, action: str, *, company_id=None, actor_id=None, target: str = "",
                   ip: str = "", **details) -> None:
        with committed_on_its_own(self.registry) as own:
            record(own, action, company_id=company_id, actor_id=actor_id, target=target, ip=ip,
                   **details)


def _id(record):
    return record.id if record is not None else None


def set_request_actor(config, actor) -> None:
    """Directive: ``actor(request)`` says who a request acts for when it is no signed-in
    browser: an :class:`~mypages.work.Actor` (its ``user``, ``ip`` and ``api_token_id``
    are read), else None. The REST API's token requests act for the token's creator with
    the token (core/mypages/api/); ``request.audit`` and ``work_of(request)`` ask first."""
    config.registry["audit.request_actor"] = actor


def request_actor(request):
    """Who a request acts for if not a signed-in browser (:func:`set_request_actor`)."""
    acting = request.registry.get("audit.request_actor")
    return acting(request) if acting is not None else None


def audit(request, action: str, *, target: str = "", company=_UNSET, actor=_UNSET,
          **details) -> AuditEvent:
    """Record ``action`` by the signed-in user (or ``actor``) in the request's company; a
    token request of the REST API by the token's creator, naming the token."""
    if company is _UNSET:
        company = getattr(request, "company", None)
    if actor is _UNSET and (acting := request_actor(request)) is not None:
        actor = acting.user
        if acting.api_token_id is not None:
            details["api_token_id"] = acting.api_token_id
    user = request.user if actor is _UNSET else actor
    return audit_writer(request).record(request.dbsession, action, company_id=_id(company),
                                        actor_id=_id(user), target=target,
                                        ip=request.client_addr, **details)


def audit_now(request, action: str, *, target: str = "", company=None, actor=_UNSET,
              **details) -> None:
    """Record ``action`` in a transaction of its own, committed at once: for refusals
    whose request transaction is rolled back."""
    user = request.request_context.user_if_loaded if actor is _UNSET else actor
    audit_writer(request).record_now(action, company_id=_id(company), actor_id=_id(user),
                                     target=target, ip=request.client_addr, **details)


def includeme(config):
    config.register_service(DatabaseAuditWriter(config.registry), AuditWriter)
    config.add_request_method(audit, "audit")
    config.add_request_method(audit_now, "audit_now")
    config.add_directive("set_request_actor", set_request_actor)
