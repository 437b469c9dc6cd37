"""The People tab of company settings, and accepting an invitation."""
from __future__ import annotations

import functools

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts import add_methods, email_tokens, start_session, throttle
from mypages.accounts.methods import login_methods, second_factors_among
from mypages.accounts.models import User
from mypages.accounts.password_policy import problems
from mypages.accounts.rules import sign_in_rules
from mypages.accounts.throttle import INVITATION
from mypages.companies.models import Company, Invitation, Role
from mypages.i18n import _
from mypages.people import members as people
from mypages.people.invitations import accept, expiry_of
from mypages.services import clock, password_hasher
from mypages.web.inputs import as_id
from mypages.work import work_of


def people_page(request, errors=()):
    invitations = request.dbsession.scalars(select(Invitation).where(
        Invitation.company_id == request.company.id, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None)).order_by(Invitation.created_at.desc())).all()
    members = people.members(request.dbsession, request.company.id)
    return {"members": members,
            "factors": second_factors_among(request.dbsession,
                                            [user.id for _m, user, _c in members],
                                            login_methods(request.registry),
                                            request.entitled_modules),
            "invitations": invitations, "errors": list(errors), "roles": list(Role),
            "expiry_of": functools.partial(expiry_of, request.dbsession,
                                           now=clock(request).now()),
            "now": clock(request).now(),
            "removal_text": removal_text, "withdrawal_text": withdrawal_text,
            "messages": request.session.pop_flash()}


@view_config(route_name="company_people", renderer="mypages:templates/people.jinja2",
             permission="company.admin", request_method="GET")
def people_view(request):
    return people_page(request)


#: the options of every view of the people page's forms: refusals are shown on that page
PEOPLE_FORM = dict(permission="company.admin", renderer="mypages:templates/people.jinja2",
                   refusal_page=people_page)


def person_of(request) -> int:
    try:
        return int(request.matchdict["user_id"])
    except ValueError:
        raise people.PeopleError(_("That person is not a member of this company."))


def _back(request, done):
    request.session.flash(request.translate(done))
    return HTTPSeeOther(request.route_url("company_people", company_id=request.company.id))


@view_config(route_name="company_person", form_action="role", **PEOPLE_FORM)
def change_role(request):
    people.change_role(work_of(request), request.company, person_of(request),
                       request.POST.get("role", ""))
    return _back(request, _("The role has been changed."))


def removal_text(request, user):
    return _("${person} loses access to ${company} at once and is signed out everywhere. Their "
             "account is kept; you can invite them again later.",
             mapping={"person": user.name, "company": request.company.name})


def withdrawal_text(request, invitation):
    return _("The invitation link sent to ${email} stops working at once. You can invite "
             "them again later.", mapping={"email": invitation.email})


def _member(request):
    user_id = person_of(request)
    for _membership, user, _confirmed in people.members(request.dbsession, request.company.id):
        if user.id == user_id:
            return user
    raise people.PeopleError(_("That person is not a member of this company."))


@view_config(route_name="company_person_remove_confirm", permission="company.admin",
             renderer="mypages:templates/confirm.jinja2", request_method="GET")
def remove_person_confirmation(request):
    user = _member(request)
    return {"title": _("Remove ${person} from ${company}?",
                       mapping={"person": user.name, "company": request.company.name}),
            "text": removal_text(request, user), "fields": {}, "confirm_label": _("Remove"),
            "action": request.path_for("company_person", company_id=request.company.id,
                                       user_id=user.id, action="remove"),
            "back": request.path_for("company_people", company_id=request.company.id)}


@view_config(route_name="company_person", form_action="remove", **PEOPLE_FORM)
def remove_person(request):
    user = _member(request)
    people.remove(work_of(request), request.company, user.id)
    return _back(request, _("${person} has been removed from ${company} and signed out "
                            "everywhere.", mapping={"person": user.name,
                                                    "company": request.company.name}))


@view_config(route_name="company_person", form_action="end-sessions", **PEOPLE_FORM)
def end_sessions(request):
    people.end_sessions(work_of(request), request.company, person_of(request))
    return _back(request, _("The person has been signed out everywhere."))


@view_config(route_name="company_person", **PEOPLE_FORM)
def unknown_person_action(request):
    person_of(request)
    raise people.PeopleError(_("Unknown action."))


def _open_invitation(request, raw) -> Invitation | None:
    return request.dbsession.scalars(select(Invitation).where(
        Invitation.id == (as_id(raw) or -1),
        Invitation.company_id == request.company.id,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))).one_or_none()


@view_config(route_name="company_invitation_withdraw_confirm", permission="company.admin",
             renderer="mypages:templates/confirm.jinja2", request_method="GET")
def withdraw_confirmation(request):
    invitation = _open_invitation(request, request.matchdict["invitation_id"])
    if invitation is None:
        raise HTTPNotFound()
    return {"title": _("Withdraw the invitation to ${email}?", mapping={"email": invitation.email}),
            "text": withdrawal_text(request, invitation), "fields": {"revoke": invitation.id},
            "confirm_label": _("Withdraw"),
            "action": request.path_for("company_invitations", company_id=request.company.id),
            "back": request.path_for("company_people", company_id=request.company.id)}


@view_config(route_name="company_invitations", form_action="revoke", **PEOPLE_FORM)
def revoke_invitation(request):
    invitation = _open_invitation(request, request.POST["revoke"])
    if invitation is None:
        raise people.PeopleError(_("There is no such invitation."))
    invitation.revoked_at = clock(request).now()
    request.audit("people.invitation_revoked", target=invitation.email)
    return _back(request, _("The invitation to ${email} has been withdrawn: its link no longer "
                            "works.", mapping={"email": invitation.email}))


@view_config(route_name="company_invitations", form_action="resend", **PEOPLE_FORM)
def resend_invitation(request):
    """A new e-mail with a new link, working for the full time again; the old link keeps
    working until it expires."""
    invitation = _open_invitation(request, request.POST["resend"])
    if invitation is None:
        raise people.PeopleError(_("There is no such invitation."))
    work_of(request).enqueue("companies.invitation_mail", {"invitation_id": invitation.id})
    request.audit("people.invitation_resent", target=invitation.email)
    return _back(request, _("The invitation to ${email} has been sent again, with a new link.",
                            mapping={"email": invitation.email}))


@view_config(route_name="company_invitations", **PEOPLE_FORM)
def invite(request):
    invitation = people.invite(work_of(request), request.company, request.POST.get("email", ""),
                               request.POST.get("role", "member"))
    return _back(request, _("An invitation has been sent to ${email}.",
                            mapping={"email": invitation.email}))


# -- accepting an invitation -----------------------------------------------------

def _invitation(request):
    row = email_tokens.find(request.dbsession, "invite", request.matchdict["token"],
                            clock(request).now())
    invitation = request.dbsession.get(Invitation, row.invitation_id) if row else None
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None, None, None
    return row, invitation, request.dbsession.get(Company, invitation.company_id)


@view_config(route_name="invitation", renderer="mypages:templates/invitation.jinja2")
def invitation(request):
    """Accept an invitation: a new account sets its password, an existing one signs in.
    Unknown links count against the address, refused forms against the link too."""
    token_row, invited, company = _invitation(request)
    wait = throttle.wait_seconds(work_of(request), INVITATION, token_row.id if invited else None)
    if wait:
        return throttle.refusal(request, wait, "people.invitation_throttled", company=company)
    if invited is None:
        throttle.record(work_of(request), INVITATION)
        request.response.status = 404
        return {"valid": False}
    existing = request.dbsession.scalars(select(User).where(User.email == invited.email)).one_or_none()
    page = {"valid": True, "company": company, "email": invited.email, "existing": existing is not None,
            "signed_in_as_invitee": request.user is not None and request.user.email == invited.email,
            "errors": [], "field_errors": {}, "name": ""}
    if request.method != "POST":
        return page
    if existing is not None:
        if not page["signed_in_as_invitee"]:
            throttle.record(work_of(request), INVITATION, token_row.id)
            request.response.status = 403
            return dict(page, errors=[_("Sign in as ${email} to accept the invitation.",
                                        mapping={"email": invited.email})])
        user = existing
    else:
        name = request.POST.get("name", "").strip()[:200]
        password = request.POST.get("password", "")
        min_length = sign_in_rules(request.registry).min_password_length(
            request.dbsession, None, company.id)
        field_errors = {}
        found = problems(password, email=invited.email, min_length=min_length)
        if found:
            field_errors["password"] = found
        if password != request.POST.get("repeat", ""):
            field_errors["repeat"] = _("The two new passwords are not the same.")
        if field_errors:
            throttle.record(work_of(request), INVITATION, token_row.id)
            request.response.status = 400
            return dict(page, field_errors=field_errors, name=name)
        user = User(email=invited.email, display_name=name,
                    password_hash=password_hasher(request).hash(password))
        request.dbsession.add(user)
        request.dbsession.flush()
    if not email_tokens.use(request.dbsession, token_row, clock(request).now()):
        request.response.status = 404
        return {"valid": False}
    accept(request.dbsession, invited, user, clock(request).now())
    request.audit("people.invitation_accepted", target=invited.email, company=company, actor=user,
                  role=invited.role.value)
    if request.user is None:
        start_session(request, user, {"pwd": clock(request).now().isoformat()})
    else:
        add_methods(request, [])  # a new membership is a privilege change: a new session id
    return HTTPSeeOther(request.route_url("dashboard", company_id=company.id))
