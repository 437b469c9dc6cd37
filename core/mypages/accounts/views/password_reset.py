"""Password reset by e-mail: never a way around two-factor or Single Sign On."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from mypages.accounts import email_tokens, end_user_sessions, throttle
from mypages.accounts.models import User
from mypages.accounts.password_policy import problems
from mypages.accounts.rules import sign_in_rules
from mypages.accounts.throttle import PASSWORD_RESET, RESET_LINK, too_many
from mypages.i18n import _
from mypages.services import clock, password_hasher
from mypages.work import work_of

SENT = _("If there is an account for that address, we have sent it a link to choose a new "
         "password. The link works for one hour.")


@view_config(route_name="password_forgot", renderer="mypages:templates/password_forgot.jinja2",
             request_method="GET")
def forgot_form(request):
    return {"sent": None, "error": None}


@view_config(route_name="password_forgot", renderer="mypages:templates/password_forgot.jinja2",
             request_method="POST")
def forgot(request):
    email = request.POST.get("email", "").strip().lower()
    if "@" not in email or len(email) > 254:
        request.response.status = 400
        return {"sent": None, "error": _("Type the e-mail address of your account.")}
    # counted per e-mail address whether or not it has an account: the same answers for all
    wait = throttle.wait_seconds(work_of(request), PASSWORD_RESET, email)
    if wait:
        request.audit("account.password_reset_throttled", target=email, company=None, wait=wait)
        request.response.status = 429
        return {"sent": None, "error": too_many(wait)}
    throttle.record(work_of(request), PASSWORD_RESET, email)
    # the same work for every address: the job decides whether anything is sent
    request.enqueue("accounts.password_reset_mail", {"email": email, "locale": request.locale_name})
    request.audit("account.password_reset_requested", target=email, company=None)
    return {"sent": SENT, "error": None}


def _reset_page(request, token_row, **extra):
    page = {"error": None, "field_errors": {}, "valid": token_row is not None,
            "min_length": (sign_in_rules(request.registry).min_password_length(
                request.dbsession, token_row.user_id) if token_row else None)}
    page.update(extra)
    return page


def _link(request):
    """(the link's token row or None, seconds to wait): unknown links count per address,
    refused forms per link too."""
    row = email_tokens.find(request.dbsession, "reset", request.matchdict["token"],
                            clock(request).now())
    return row, throttle.wait_seconds(work_of(request), RESET_LINK, row.id if row else None)


def _link_throttled(request, wait):
    return throttle.refusal(request, wait, "account.reset_link_throttled", company=None)


def _unknown_link(request):
    throttle.record(work_of(request), RESET_LINK)
    request.response.status = 404
    return _reset_page(request, None)


def _refused(request, row, status, page):
    throttle.record(work_of(request), RESET_LINK, row.id)
    request.response.status = status
    return page


@view_config(route_name="password_reset", renderer="mypages:templates/password_reset.jinja2",
             request_method="GET")
def reset_form(request):
    row, wait = _link(request)
    if wait:
        return _link_throttled(request, wait)
    if row is None:
        return _unknown_link(request)
    return _reset_page(request, row)


@view_config(route_name="password_reset", renderer="mypages:templates/password_reset.jinja2",
             request_method="POST")
def reset(request):
    row, wait = _link(request)
    if wait:
        return _link_throttled(request, wait)
    if row is None:
        return _unknown_link(request)
    user = request.dbsession.get(User, row.user_id)
    rules = sign_in_rules(request.registry)
    if user is None or not user.is_active or not rules.password_allowed(request.dbsession, user.id):
        return _refused(request, row, 403, _reset_page(request, None))
    new = request.POST.get("new", "")
    if new != request.POST.get("repeat", ""):
        return _refused(request, row, 400, _reset_page(
            request, row, field_errors={"repeat": _("The two new passwords are not the same.")}))
    found = problems(new, email=user.email,
                     min_length=rules.min_password_length(request.dbsession, user.id))
    if found:
        return _refused(request, row, 400, _reset_page(request, row, field_errors={"new": found}))
    if not email_tokens.use(request.dbsession, row, clock(request).now()):
        request.response.status = 404
        return _reset_page(request, None)
    user.password_hash = password_hasher(request).hash(new)
    ended = end_user_sessions(request.dbsession, user.id)
    request.audit("account.password_reset", target=user.email, company=None, actor=user,
                  sessions_ended=ended)
    # no session is started here: signing in again asks for the second factor too
    return HTTPSeeOther(request.route_url("login", _query={"reset": "1"}))
