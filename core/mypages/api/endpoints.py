"""The core's operations: the company, its members, its modules (read; a trial started and a
module deactivated with ``modules:write``)."""
from __future__ import annotations

from sqlalchemy import select

from mypages.accounts.models import TotpCredential, User
from mypages.api.calls import ApiCall
from mypages.api.document import ApiBuilder
from mypages.api.problems import ApiProblem
from mypages.companies.models import Company, Membership
from mypages.db import read_all
from mypages.i18n import _
from mypages.modules import lifecycle
from mypages.modules.catalogue import KEY_PATTERN
from mypages.modules.models import ModuleState
from mypages.services import clock

DATE_TIME = {"type": "string", "format": "date-time"}

COMPANY = {
    "type": "object",
    "required": ["id", "name", "org_number", "default_locale", "created_at", "street_address",
                 "postal_code", "city", "invoice_email", "vat_number"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "org_number": {"type": ["string", "null"],
                       "description": "The Swedish organisation number, NNNNNN-NNNN."},
        "default_locale": {"type": ["string", "null"]},
        "created_at": DATE_TIME,
        "street_address": {"type": ["string", "null"]},
        "postal_code": {"type": ["string", "null"]},
        "city": {"type": ["string", "null"]},
        "invoice_email": {"type": ["string", "null"],
                          "description": "Where invoices are sent."},
        "vat_number": {"type": ["string", "null"],
                       "description": "The VAT number, compact (SE556036079301)."},
    },
}

MEMBER = {
    "type": "object",
    "required": ["user_id", "email", "name", "role", "two_factor", "joined_at"],
    "properties": {
        "user_id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "member"]},
        "two_factor": {"type": "boolean",
                       "description": "Whether the person has two-factor authentication on."},
        "joined_at": DATE_TIME,
    },
}

MODULE = {
    "type": "object",
    "required": ["key", "title", "state", "days_left", "trial_ends_at"],
    "properties": {
        "key": {"type": "string"},
        "title": {"type": "string"},
        "state": {"type": "string", "enum": [state.value for state in ModuleState]},
        "days_left": {"type": ["integer", "null"], "minimum": 0,
                      "description": "Days left of the free trial, while it runs."},
        "trial_ends_at": {"anyOf": [DATE_TIME, {"type": "null"}]},
    },
}

MODULE_KEY = {"name": "key", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": KEY_PATTERN.pattern}}


def _iso(value):
    return value.isoformat() if value is not None else None


def get_company(call: ApiCall) -> dict:
    row = call.dbsession.get(Company, call.company.id)
    return {"id": row.id, "name": row.name, "org_number": row.org_number,
            "default_locale": row.default_locale, "created_at": _iso(row.created_at),
            "street_address": row.street_address, "postal_code": row.postal_code,
            "city": row.city, "invoice_email": row.invoice_email, "vat_number": row.vat_number}


def list_members(call: ApiCall) -> list[dict]:
    query = (select(Membership, User, TotpCredential.confirmed_at)
             .join(User, User.id == Membership.user_id)
             .outerjoin(TotpCredential, TotpCredential.user_id == User.id)
             .where(Membership.company_id == call.company.id)
             .order_by(Membership.user_id).limit(call.page.fetch))
    if call.page.after is not None:
        query = query.where(Membership.user_id > int(call.page.after))
    return [{"user_id": user.id, "email": user.email, "name": user.display_name,
             "role": membership.role.value, "two_factor": confirmed is not None,
             "joined_at": _iso(membership.created_at)}
            for membership, user, confirmed in call.dbsession.execute(query)]


def _module_item(call: ApiCall, module, row, now) -> dict:
    """``row``: the module's activation (or a row of its columns), None if it has none."""
    state = lifecycle.state_of(row)
    trial = state == ModuleState.trial
    return {"key": module.key, "title": call.translate(module.title), "state": state.value,
            "days_left": lifecycle.days_left(row, now) if trial else None,
            "trial_ends_at": _iso(row.trial_ends_at) if trial else None}


def list_modules(call: ApiCall) -> list[dict]:
    catalogue = call.request.registry["modules.catalogue"]
    after = call.page.after
    modules = sorted((m for m in catalogue if after is None or m.key > str(after)),
                     key=lambda m: m.key)[:call.page.fetch]
    if not modules:
        return []
    now = clock(call.request).now()  # no Work: it would open an ORM session for nothing
    rows = {row.module_key: row for row in read_all(
        call.request, lifecycle.ACTIVATION_STATES, {"company_id": call.company.id})}
    return [_module_item(call, module, rows.get(module.key), now) for module in modules]


def _known_module(call: ApiCall):
    module = call.request.registry["modules.catalogue"].get(call.path["key"])
    if module is None:
        raise ApiProblem("not-found", _("There is no module called \"${key}\".",
                                        mapping={"key": call.path["key"]}))
    return module


def _changed(call: ApiCall, change) -> dict:
    module = _known_module(call)
    work = call.work()
    change(work, call.company, module.key)
    row = lifecycle.activations(call.dbsession, call.company.id).get(module.key)
    return _module_item(call, module, row, work.now())


def start_trial(call: ApiCall) -> dict:
    return _changed(call, lifecycle.activate)


def deactivate(call: ApiCall) -> dict:
    return _changed(call, lifecycle.deactivate)


def add_core_operations(api: ApiBuilder) -> None:
    api.add_scope("company:read", _("Read the company's details"))
    api.add_scope("members:read", _("Read the company's members, their roles and two-factor "
                                    "state"))
    api.add_scope("modules:read", _("Read the company's modules and their states"))
    api.add_scope("modules:write", _("Start a module's free trial, deactivate a module"))
    api.add_schema("Company", COMPANY)
    api.add_schema("Member", MEMBER)
    api.add_schema("Module", MODULE)
    ref = "#/components/schemas/"
    api.add_operation("get", "/company", get_company, operation_id="getCompany",
                      scope="company:read", summary=_("The token's company"),
                      response={"$ref": ref + "Company"}, tags=("company",))
    api.add_list("/members", list_members, operation_id="listMembers", scope="members:read",
                 summary=_("The company's members, with their roles and two-factor state"),
                 item="Member", columns=tuple(MEMBER["properties"]), order_by="user_id",
                 tags=("members",))
    api.add_list("/modules", list_modules, operation_id="listModules", scope="modules:read",
                 summary=_("Every module, with its state for the company and the days left "
                           "of a trial"),
                 item="Module", columns=tuple(MODULE["properties"]), order_by="key",
                 tags=("modules",))
    api.add_operation("post", "/modules/{key}/trial", start_trial, operation_id="startTrial",
                      scope="modules:write", summary=_("Start the module's free trial"),
                      parameters=[MODULE_KEY], response={"$ref": ref + "Module"},
                      tags=("modules",), links={"DeactivateModule": {
                          "operationId": "deactivateModule",
                          "parameters": {"key": "$response.body#/key"}}})
    api.add_operation("post", "/modules/{key}/deactivate", deactivate,
                      operation_id="deactivateModule", scope="modules:write",
                      summary=_("Deactivate the module; its settings are kept"),
                      parameters=[MODULE_KEY], response={"$ref": ref + "Module"},
                      tags=("modules",))
