"""The API tab of company settings: a company's tokens made, listed and revoked by its admins
(docs/admin/api-tokens.rst)."""
from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from mypages.api import tokens
from mypages.api.document import API_PREFIX
from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.services import clock
from mypages.web.inputs import as_id
from mypages.work import work_of

TOKENS_PAGE = "mypages:templates/api_tokens.jinja2"
#: what the form offers as the expiry, days from today
DEFAULT_DAYS = 90


def _today(request) -> dt.date:
    return clock(request).now().astimezone(request.timezone).date()


def _scopes(request) -> list[tuple[str, object]]:
    return sorted(request.registry["api.published"].builder.scopes.items())


def tokens_page(request, errors=(), values=None):
    now = clock(request).now()
    today = _today(request)
    rows = [{"token": token, "creator": creator,
             # a token is valid to the end of its last day
             "last_day": token.expires_at - dt.timedelta(microseconds=1),
             "expired": token.expires_at <= now, "revoked": token.revoked_at is not None}
            for token, creator in tokens.tokens_of(request.dbsession, request.company.id)]
    return {"rows": rows, "errors": list(errors), "scopes": _scopes(request),
            "values": values or {"name": "", "scopes": set(),
                                 "expires_on": (today + dt.timedelta(days=DEFAULT_DAYS)).isoformat()},
            "min_date": (today + dt.timedelta(days=1)).isoformat(),
            "max_date": (today + dt.timedelta(days=tokens.MAX_DAYS - 1)).isoformat(),
            "api_base": request.application_url + API_PREFIX,
            "messages": request.session.pop_flash()}


@view_config(route_name="company_api_tokens", renderer=TOKENS_PAGE, permission="company.admin",
             request_method="GET")
def list_tokens(request):
    return tokens_page(request)


def _expires_at(request, text: str) -> dt.datetime:
    """The end of the chosen day, in the product's time zone."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise tokens.TokenError(_("Choose the day the token expires.")) from None
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=request.timezone)
    return end.astimezone(dt.timezone.utc)


@view_config(route_name="company_api_tokens", renderer=TOKENS_PAGE, permission="company.admin",
             request_method="POST", refusal_page=lambda request, errors: tokens_page(
                 request, errors, {"name": request.POST.get("name", ""),
                                   "scopes": set(request.POST.getall("scope")),
                                   "expires_on": request.POST.get("expires_on", "")}))
def create_token(request):
    """The token is shown once, on this answer; it is stored only as a digest."""
    post = request.POST
    row, secret = tokens.create(
        work_of(request), request.company, name=post.get("name", ""),
        scopes=post.getall("scope"), expires_at=_expires_at(request, post.get("expires_on")),
        known_scopes=request.registry["api.published"].builder.scopes)
    request.response.status = 201
    return {**tokens_page(request), "created": row, "secret": secret,
            "messages": [request.translate(_("The token \"${name}\" has been made.",
                                             mapping={"name": row.name}))]}


def _token(request):
    token_id = as_id(request.matchdict.get("token_id"))
    for token, creator in tokens.tokens_of(request.dbsession, request.company.id):
        if token.id == token_id:
            return token, creator
    raise HTTPNotFound()


@view_config(route_name="company_api_token_revoke", permission="company.admin",
             request_method="GET", renderer="mypages:templates/api_token_revoke.jinja2")
def confirm_revoke(request):
    token, creator = _token(request)
    if token.revoked_at is not None:
        raise Refusal(_("This token has already been revoked."))
    return {"token": token, "creator": creator}


@view_config(route_name="company_api_token_revoke", permission="company.admin",
             request_method="POST", renderer=TOKENS_PAGE,
             refusal_page=lambda request, errors: tokens_page(request, errors))
def revoke(request):
    token, _creator = _token(request)
    tokens.revoke(work_of(request), request.company, token.id)
    request.session.flash(request.translate(_(
        "The token \"${name}\" is revoked. Programs that use it are refused from now on.",
        mapping={"name": token.name})))
    return HTTPSeeOther(request.route_url("company_api_tokens", company_id=request.company.id))
