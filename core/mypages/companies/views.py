"""The signed-in user's companies, a company's dashboard and its Company tab."""
from __future__ import annotations

from typing import NamedTuple

from markupsafe import Markup
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.companies import information
from mypages.companies.models import Company, Membership
from mypages.i18n import LANGUAGE_NAMES, LANGUAGES, _
from mypages.i18n.templates import render_fragment
from mypages.refusals import Refusal
from mypages.work import work_of


class ShownCard(NamedTuple):
    """A dashboard card as the page shows it."""

    title: str
    body: str
    href: str | None
    #: the card's own template, rendered (and escaped) already
    html: Markup | None = None


def memberships_of(request):
    return request.dbsession.execute(
        select(Membership, Company).join(Company).where(Membership.user_id == request.user.id,
                                                        Membership.disabled_at.is_(None))
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
                  if card.route_name else None,
                  Markup(render_fragment(request, card.template, dict(card.values)))
                  if card.template else None)
        for card in sorted(offered, key=lambda card: card.order)]}


@view_config(route_name="company_settings", permission="company.admin")
def company_settings(request):
    return HTTPSeeOther(request.route_url("company_information", company_id=request.company.id))


def information_page(request, errors=(), changing=False):
    """The Company tab: the company's information, or (``changing``) the form to change it,
    filled in as it was sent when it is shown again with ``errors``."""
    company = request.company
    if errors:
        values = {name: request.POST.get(name, "") for name in information.FIELDS}
    else:
        values = {name: getattr(company, name) or "" for name in information.FIELDS}
        values["default_locale"] = values["default_locale"] or LANGUAGES[0]
    refused = getattr(request, "exception", None)
    return {"changing": changing or bool(errors), "values": values, "errors": list(errors),
            "field_errors": getattr(refused, "fields", {}), "labels": information.LABELS,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "messages": request.session.pop_flash()}


def _refused_information(request, errors):
    return information_page(request, errors)


#: the options of every view of the Company tab's form: refusals are shown on the tab
INFORMATION_FORM = dict(route_name="company_information", permission="company.admin",
                        renderer="mypages:templates/company_information.jinja2",
                        refusal_page=_refused_information)


@view_config(route_name="company_information", permission="company.admin",
             renderer="mypages:templates/company_information.jinja2", request_method="GET")
def company_information(request):
    return information_page(request, changing="change" in request.GET)


@view_config(form_action="save", **INFORMATION_FORM)
def save_information(request):
    changed = information.change_information(work_of(request), request.company,
                                             information.read_form(request.POST))
    if changed:
        names = ", ".join(request.translate(information.LABELS[name]) for name in changed)
        done = _("The company information is saved. Changed: ${fields}.",
                 mapping={"fields": names})
    else:
        done = _("Nothing was changed: the information was already so.")
    request.session.flash(request.translate(done))
    return HTTPSeeOther(request.route_url("company_information", company_id=request.company.id))


@view_config(**INFORMATION_FORM)
def unknown_information_action(request):
    raise Refusal(_("Unknown action."))
