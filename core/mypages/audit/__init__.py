"""The audit trail: who did what, when, from where, in which company.

Events are written in the same transaction as the change they describe, so
a change and its audit event are committed together or not at all.
Details must never hold secrets.
"""
from __future__ import annotations

from mypages.audit.models import AuditEvent
from mypages.db import committed_on_its_own

_UNSET = object()


def record(dbsession, action: str, *, company_id=None, actor_id=None, target: str = "",
           ip: str = "", **details) -> AuditEvent:
    event = AuditEvent(company_id=company_id, actor_id=actor_id, action=action,
                       target=str(target), ip=ip, details=details)
    dbsession.add(event)
    return event


def audit(request, action: str, *, target: str = "", company=_UNSET, actor=_UNSET,
          **details) -> AuditEvent:
    """Record ``action`` by the signed-in user (or ``actor``) in the request's company."""
    if company is _UNSET:
        company = getattr(request, "company", None)
    user = request.user if actor is _UNSET else actor
    return record(
        request.dbsession, action,
        company_id=company.id if company is not None else None,
        actor_id=user.id if user is not None else None,
        target=target, ip=request.client_addr, **details,
    )


def audit_now(request, action: str, *, target: str = "", company=None, actor=_UNSET,
              **details) -> None:
    """Record ``action`` in a transaction of its own, committed at once: for refusals
    whose request transaction is rolled back."""
    user = request.request_context.user_if_loaded if actor is _UNSET else actor
    with committed_on_its_own(request.registry) as own:
        record(own, action, company_id=company.id if company is not None else None,
               actor_id=user.id if user is not None else None, target=target,
               ip=request.client_addr, **details)


def includeme(config):
    config.add_request_method(audit, "audit")
    config.add_request_method(audit_now, "audit_now")
