"""The audit trail: who did what, when, from where, in which company.

Events are written in the same transaction as the change they describe, so
a change and its audit event are committed together or not at all.
Details must never hold secrets. The :class:`~mypages.services.AuditWriter`
service writes them; ``request.audit`` fills in the request's company, user
and client address.

Every event is a link of a hash chain (:mod:`mypages.audit.chain`): its company's, or the
platform's. While a request is handled the writer also records its user agent, its
request id and, when an admin's form says why (the field :data:`REASON_FIELD`), that
reason. An event about a person that names no company (a sign-in, a refused password, a
second factor switched off) is written to the trail of each company the person belongs to
(the platform's when they belong to none), for the actions the domains name with
``config.add_member_audit_actions``.
Domains above this one hand down how a user and a company are named and which companies
a person belongs to (``config.set_audit_lookup``): the trail keeps those names as they were.
"""
from __future__ import annotations

import contextvars
import json

from pyramid.tweens import INGRESS

from mypages.audit import chain
from mypages.audit.models import AuditEvent
from mypages.db import committed_on_its_own
from mypages.logs import current_request_id
from mypages.services import AuditWriter, audit_writer, clock

_UNSET = object()
#: the optional field of admins' forms that says why a change is made
REASON_FIELD = "audit_reason"
REASON_MAX = 500
#: the detail naming the person an event is about when nobody signed in acted (a wrong
#: password typed for them): their companies' trails get it too
SUBJECT = "subject_id"
LOOKUPS_KEY = "audit.lookups"
MEMBER_ACTIONS_KEY = "audit.member_actions"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_request: contextvars.ContextVar = contextvars.ContextVar("mypages_audit_request", default=None)


def _origin(request) -> dict:
    """What the request being handled in this thread tells of an event: its user agent,
    its id, and the reason its form gave."""
    if request is None:
        return {"user_agent": "", "request_id": current_request_id() or "", "reason": ""}
    reason = ""
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        reason = " ".join(str(request.POST.get(REASON_FIELD, "")).split())[:REASON_MAX]
    return {"user_agent": (request.user_agent or "")[:300],
            "request_id": request.request_id, "reason": reason}


def _plain(details: dict) -> dict:
    """The details as they read back from the JSON column (tuples are lists), so the hash
    made now is the hash of what is read later."""
    return json.loads(json.dumps(details, default=str))


def _lookup(registry, name: str, *args, default=None):
    found = registry.get(LOOKUPS_KEY, {}).get(name)
    return found(*args) if found is not None else default


def record(registry, dbsession, action: str, *, company_id=None, actor_id=None,
           target: str = "", ip: str = "", **details) -> AuditEvent:
    """Append ``action`` to the company's chain (the platform's when ``company_id`` is
    None); a member action that names no company goes to the chains of the person's
    companies instead (the platform's if they have none). Returns the first event written."""
    origin = _origin(_request.get())
    api_token_id = details.pop("api_token_id", None)
    details = _plain(details)
    now = clock(registry).now()
    actor_label = _lookup(registry, "user_label", dbsession, actor_id, default="") \
        if actor_id is not None else ""

    def event(company) -> AuditEvent:
        label = _lookup(registry, "company_label", dbsession, company, default="") \
            if company is not None else ""
        return chain.append(dbsession, AuditEvent(
            created_at=now, company_id=company, company_label=label, actor_id=actor_id,
            actor_label=actor_label, action=action, target=str(target)[:200], ip=ip or "",
            api_token_id=api_token_id, details=details, **origin))

    companies = [company_id]
    if company_id is None and action in registry.get(MEMBER_ACTIONS_KEY, ()):
        person = actor_id if actor_id is not None else details.get(SUBJECT)
        if person is not None:
            companies = sorted(_lookup(registry, "companies_of", dbsession, person,
                                       default=())) or companies
    return [event(company) for company in companies][0]


class DatabaseAuditWriter(AuditWriter):
    """Audit events as rows of ``audit_events``, each linked into its chain."""

    def __init__(self, registry):
        self.registry = registry

    def record(self, dbsession, action: str, *, company_id=None, actor_id=None,
               target: str = "", ip: str = "", **details) -> AuditEvent:
        return record(self.registry, dbsession, action, company_id=company_id,
                      actor_id=actor_id, target=target, ip=ip, **details)

    def record_now(self, action: str, *, company_id=None, actor_id=None, target: str = "",
                   ip: str = "", **details) -> None:
        with committed_on_its_own(self.registry) as own:
            record(self.registry, own, action, company_id=company_id, actor_id=actor_id,
                   target=target, ip=ip, **details)


def _id(record):
    return record.id if record is not None else None


def set_request_actor(config, actor) -> None:
    """Directive: ``actor(request)`` says who a request acts for when it is no signed-in
    browser: an :class:`~mypages.work.Actor` (its ``user``, ``ip`` and ``api_token_id``
    are read), else None. The REST API's token requests act for the token's creator with
    the token (core/mypages/api/); ``request.audit`` and ``work_of(request)`` ask first."""
    config.registry["audit.request_actor"] = actor


def set_audit_lookup(config, name: str, lookup) -> None:
    """Directive of the domains that know people and companies: ``user_label(dbsession,
    user_id)`` and ``company_label(dbsession, company_id)`` name them in a new event;
    ``companies_of(dbsession, user_id)`` are the ids of the companies a person belongs to."""
    config.registry.setdefault(LOOKUPS_KEY, {})[name] = lookup


def add_member_audit_actions(config, *actions: str) -> None:
    """Directive: events of these actions that name no company are about a person and go to
    the trail of each of the person's companies too."""
    config.registry.setdefault(MEMBER_ACTIONS_KEY, set()).update(actions)


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


def request_tween_factory(handler, registry):
    """Keeps the request at hand for the writer: its events carry its user agent, id and
    stated reason, whichever way they are written (``request.audit``, a :class:`Work`)."""

    def audit_request_tween(request):
        token = _request.set(request)
        try:
            return handler(request)
        finally:
            _request.reset(token)

    return audit_request_tween


def includeme(config):
    config.register_service(DatabaseAuditWriter(config.registry), AuditWriter)
    config.add_request_method(audit, "audit")
    config.add_request_method(audit_now, "audit_now")
    config.add_directive("set_request_actor", set_request_actor)
    config.add_directive("set_audit_lookup", set_audit_lookup)
    config.add_directive("add_member_audit_actions", add_member_audit_actions)
    config.add_tween("mypages.audit.request_tween_factory", under=INGRESS)
