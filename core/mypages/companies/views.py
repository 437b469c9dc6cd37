from __future__ import annotations

from typing import NamedTuple

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts import add_methods, email_tokens, start_session, throttle
from mypages.accounts.models import User
from mypages.accounts.password_policy import PLATFORM_MIN_LENGTH, problems
from mypages.accounts.throttle import INVITATION
from mypages.people.invitations import accept
from mypages.companies.models import Company, CompanyPolicy, Invitation, Membership
from mypages.db import utcnow
from mypages.i18n import _


class ShownCard(NamedTuple):
    """A dashboard card as the page shows it."""

    title: str
    body: str
    href: str | None


def memberships_of(request):
    return request.dbsession.execute(
        select(Membership, Company).join(Company).where(Membership.user_id == request.user.id)
        .order_by(Company.name)
    ).all()


@view_config(route_name="home")
def home(request):
    if request.user is None:
        return HTTPSeeOther(request.route_url("login"))
    rows = memberships_of(request)
    if len(rows) == 1:
        return HTTPSeeOther(request.route_url("dashboard", company_id=rows[0].Company.id))
    if not rows and request.user.is_operator:
        return HTTPSeeOther(request.route_url("operator"))
    return HTTPSeeOther(request.route_url("companies"))


@view_config(route_name="companies", renderer="mypages:templates/companies.jinja2",
             permission="signed-in")
def companies(request):
    return {"rows": memberships_of(request)}


@view_config(route_name="dashboard", renderer="mypages:templates/dashboard.jinja2",
             permission="company.view")
def dashboard(request):
    offered = [card for cards in request.company_hooks.mypages_dashboard_cards(
        request=request, company=request.company) for card in cards]
    company_id = request.company.id
    # translated and linked here, not in the template, where every call costs more
    return {"cards": [
        ShownCard(request.translate(card.title), request.translate(card.body),
                  request.path_for(card.route_name, company_id=company_id)
                  if card.route_name else None)
        for card in sorted(offered, key=lambda card: card.order)]}


@view_config(route_name="company_settings", permission="company.admin")
def company_settings(request):
    return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))


# -- accepting an invitation -----------------------------------------------------

def _invitation(request):
    row = email_tokens.find(request.dbsession, "invite", request.matchdict["token"])
    invitation = request.dbsession.get(Invitation, row.invitation_id) if row else None
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None, None, None
    return row, invitation, request.dbsession.get(Company, invitation.company_id)


@view_config(route_name="invitation", renderer="mypages:templates/invitation.jinja2")
def invitation(request):
    """Accept an invitation: a new account sets its password, an existing one signs in.
    Unknown links count against the address, refused forms against the link too."""
    token_row, invited, company = _invitation(request)
    wait = throttle.wait_seconds(request, INVITATION, token_row.id if invited else None)
    if wait:
        return throttle.refusal(request, wait, "people.invitation_throttled", company=company)
    if invited is None:
        throttle.record(request, INVITATION)
        request.response.status = 404
        return {"valid": False}
    existing = request.dbsession.scalars(select(User).where(User.email == invited.email)).one_or_none()
    page = {"valid": True, "company": company, "email": invited.email, "existing": existing is not None,
            "signed_in_as_invitee": request.user is not None and request.user.email == invited.email,
            "errors": [], "name": ""}
    if request.method != "POST":
        return page
    if existing is not None:
        if not page["signed_in_as_invitee"]:
            throttle.record(request, INVITATION, token_row.id)
            request.response.status = 403
            return dict(page, errors=[_("Sign in as ${email} to accept the invitation.",
                                        mapping={"email": invited.email})])
        user = existing
    else:
        name = request.POST.get("name", "").strip()[:200]
        password = request.POST.get("password", "")
        found = problems(password, email=invited.email, min_length=_min_length(request, company))
        if password != request.POST.get("repeat", ""):
            found.insert(0, _("The two new passwords are not the same."))
        if found:
            throttle.record(request, INVITATION, token_row.id)
            request.response.status = 400
            return dict(page, errors=found, name=name)
        user = User(email=invited.email, display_name=name,
                    password_hash=request.registry["passwords"].hash(password))
        request.dbsession.add(user)
        request.dbsession.flush()
    if not email_tokens.use(request.dbsession, token_row):
        request.response.status = 404
        return {"valid": False}
    accept(request.dbsession, invited, user)
    request.audit("people.invitation_accepted", target=invited.email, company=company, actor=user)
    if request.user is None:
        start_session(request, user, {"pwd": utcnow().isoformat()})
    else:
        add_methods(request, [])  # a new membership is a privilege change: a new session id
    return HTTPSeeOther(request.route_url("dashboard", company_id=company.id))


def _min_length(request, company) -> int:
    policy = request.dbsession.get(CompanyPolicy, company.id)
    return max(PLATFORM_MIN_LENGTH, policy.password_min_length if policy else 0)
