"""The core's rules of the watch over the audit trail (docs/admin/alerts.rst describes each):
failed sign-ins piling up on one account or from one address, a break-glass sign-in, a new
admin, a weakened sign-in policy, a new API token, and an admin signing in from a browser
never seen for them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Membership, Role
from mypages.contract import AuditAlert, AuditEventInfo, AuditRule, AuditRuleContext
from mypages.governance import user_label
from mypages.i18n import _
from mypages.services import settings_of

#: a sign-in that failed: a wrong password, or one tried while the account had to wait
FAILED_SIGN_INS = ("account.sign_in_failed", "account.sign_in_throttled")


def _who(event: AuditEventInfo) -> str:
    return event.actor_label or (f"#{event.actor_id}" if event.actor_id is not None else "")


def failed_sign_ins_to_account(context: AuditRuleContext, event: AuditEventInfo):
    limits = settings_of(context.registry).alerts
    if not event.target:
        return None
    count = context.count(event, limits.window, FAILED_SIGN_INS, same=("target",))
    if count < limits.failed_sign_ins_per_account:
        return None
    return AuditAlert(
        _("${count} sign-ins to the account ${account} failed within ${minutes} minutes, the "
          "last from ${address}. Someone may be guessing its password."),
        values={"count": count, "account": event.target, "address": event.ip or "?",
                "minutes": int(limits.window.total_seconds() // 60)},
        subject=event.target, quiet_for=limits.window)


def failed_sign_ins_from_address(context: AuditRuleContext, event: AuditEventInfo):
    limits = settings_of(context.registry).alerts
    if not event.ip:
        return None
    count = context.count(event, limits.window, FAILED_SIGN_INS, same=("ip",))
    if count < limits.failed_sign_ins_per_address:
        return None
    return AuditAlert(
        _("${count} sign-ins from the address ${address} failed within ${minutes} minutes, "
          "the last to ${account}. Someone there may be trying many passwords or accounts."),
        values={"count": count, "address": event.ip, "account": event.target or "?",
                "minutes": int(limits.window.total_seconds() // 60)},
        subject=event.ip, quiet_for=limits.window)


def break_glass_sign_in(context: AuditRuleContext, event: AuditEventInfo):
    return AuditAlert(
        _("${person} signed in with a password as a break-glass admin, although the company "
          "requires Single Sign On. If that was not expected, check the audit trail and the "
          "person's sessions."),
        values={"person": _who(event)}, subject=str(event.actor_id))


def new_admin(context: AuditRuleContext, event: AuditEventInfo):
    if event.action == "people.role_changed":
        if event.details.get("new_role") != Role.admin.value:
            return None
        person = user_label(context.dbsession, int(event.target)) or f"#{event.target}"
        return AuditAlert(_("${actor} made ${person} an admin of the company."),
                          values={"actor": _who(event), "person": person},
                          subject=event.target)
    if event.details.get("role") != Role.admin.value:
        return None
    return AuditAlert(_("${person} accepted an invitation and is now an admin of the company."),
                      values={"person": _who(event) or event.target},
                      subject=str(event.actor_id))


def _weaker(key: str, before, after) -> bool:
    """Whether changing the policy's ``key`` from ``before`` to ``after`` lets more in."""
    if key == "require_mfa":
        return bool(before) and not after
    if key == "password_min_length":
        return before is not None and after is not None and after < before
    if key in ("idle_minutes", "absolute_hours", "dormant_days"):  # None: no limit
        return before is not None and (after is None or after > before)
    if key == "break_glass":  # more people who may skip Single Sign On
        return bool(set(after or ()) - set(before or ()))
    return False


def weakened_policy(context: AuditRuleContext, event: AuditEventInfo):
    if event.action == "sso.require_all_switched":
        weaker = event.details.get("on") is False
    else:
        changes = event.details.get("changes") or {}
        weaker = any(isinstance(change, list) and len(change) == 2 and _weaker(key, *change)
                     for key, change in changes.items())
    if not weaker:
        return None
    if event.company_id is None:
        text = _("${person} weakened the platform's sign-in policy: it asks less of every "
                 "company's people now.")
    else:
        text = _("${person} weakened the company's sign-in policy: it asks less of the "
                 "company's people now. The audit trail shows what changed.")
    return AuditAlert(text, values={"person": _who(event)}, subject=event.action)


def api_token_created(context: AuditRuleContext, event: AuditEventInfo):
    return AuditAlert(
        _("${person} created the API token \"${token}\" with the scopes ${scopes}. Whoever "
          "holds it can act for the company until it expires or is revoked."),
        values={"person": _who(event), "token": event.target,
                "scopes": ", ".join(event.details.get("scopes") or ()) or "-"},
        subject=str(event.details.get("api_token", "")))


#: as far back as the trail goes (its retention is a year unless set otherwise)
EVER = dt.timedelta(days=100 * 365)


def admin_on_new_device(context: AuditRuleContext, event: AuditEventInfo):
    if not event.details.get("new_device") or event.actor_id is None:
        return None
    # a person's first sign-in is from a new browser by nature: nothing to tell
    if context.count(event, EVER, same=("actor_id",)) < 2:
        return None
    if event.company_id is None:
        admin = context.dbsession.scalar(select(User.is_operator)
                                         .where(User.id == event.actor_id))
    else:
        admin = context.dbsession.scalar(select(Membership.id).where(
            Membership.company_id == event.company_id, Membership.user_id == event.actor_id,
            Membership.role == Role.admin)) is not None
    if not admin:
        return None
    return AuditAlert(
        _("${person}, an admin, signed in from a browser never used by them before "
          "(${agent}, from ${address}). If that was not them, end their sessions and change "
          "their password."),
        values={"person": _who(event), "agent": event.user_agent or "?",
                "address": event.ip or "?"},
        subject=str(event.actor_id))


def rules() -> list[AuditRule]:
    return [
        AuditRule("failed_sign_ins_account", _("Many failed sign-ins to one account"),
                  FAILED_SIGN_INS, failed_sign_ins_to_account),
        AuditRule("failed_sign_ins_address", _("Many failed sign-ins from one address"),
                  FAILED_SIGN_INS, failed_sign_ins_from_address),
        AuditRule("break_glass_sign_in", _("A break-glass sign-in"),
                  ("policy.break_glass_used",), break_glass_sign_in),
        AuditRule("new_admin", _("A new admin"),
                  ("people.role_changed", "people.invitation_accepted"), new_admin),
        AuditRule("weakened_policy", _("A weakened sign-in policy"),
                  ("policy.changed", "platform.policy_changed", "sso.require_all_switched"),
                  weakened_policy),
        AuditRule("api_token_created", _("An API token created"),
                  ("api_token.created",), api_token_created),
        AuditRule("admin_new_device", _("An admin signed in from a new browser"),
                  ("account.signed_in",), admin_on_new_device),
    ]
