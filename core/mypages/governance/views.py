"""The Audit trail tab of company settings and the operators' platform trail: browse,
filter, page, download as CSV."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from mypages.governance import dormancy, trail
from mypages.i18n import _
from mypages.people.views import PEOPLE_FORM, person_of
from mypages.work import work_of


def _trail_page(request, chain_company: int | None, route: str, **route_args) -> dict:
    filters, errors = trail.read_filters(request.GET)
    if errors:
        request.response.status = 400
        filters = trail.Filters()
    events, older = trail.page(request.dbsession, chain_company, filters, request.timezone)
    values = filters.query_values()
    return {"events": events, "errors": errors, "filters": filters,
            "actions": trail.actions(request.dbsession, chain_company),
            "older": request.route_path(route, **route_args,
                                        _query={**values, "before": older}) if older else None,
            "newest": request.route_path(route, **route_args, _query=values)
            if filters.before else None,
            "csv": request.route_path(route + "_csv", **route_args, _query=values)}


def _csv(request, company_id: int | None, name: str):
    filters, errors = trail.read_filters(request.GET)
    if errors:
        return Response(request.translate(errors[0]), status=400,
                        content_type="text/plain", charset="utf-8")
    registry, time_zone = request.registry, request.timezone

    def body():
        # read after the view returned, in a session of its own: the request's has ended
        with registry["db.session_factory"]() as dbsession:
            yield from trail.csv_lines(dbsession, company_id, filters, time_zone)

    response = Response(app_iter=body(), content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="{name}.csv"'
    return response


@view_config(route_name="company_audit", renderer="mypages:templates/audit_trail.jinja2",
             permission="company.admin", request_method="GET")
def company_trail(request):
    return _trail_page(request, request.company.id, "company_audit",
                       company_id=request.company.id)


@view_config(route_name="company_audit_csv", permission="company.admin", request_method="GET")
def company_trail_csv(request):
    return _csv(request, request.company.id, f"audit-trail-{request.company.id}")


@view_config(route_name="operator_audit",
             renderer="mypages:templates/operator_audit_trail.jinja2", permission="operator",
             request_method="GET")
def platform_trail(request):
    return _trail_page(request, None, "operator_audit")


@view_config(route_name="operator_audit_csv", permission="operator", request_method="GET")
def platform_trail_csv(request):
    return _csv(request, None, "audit-trail-platform")


@view_config(route_name="company_person", form_action="restore", **PEOPLE_FORM)
def restore_membership(request):
    """The People tab: let back in someone whose membership went unused (dormant access)."""
    dormancy.restore(work_of(request), request.company, person_of(request))
    request.session.flash(request.translate(_("The person can open the company again.")))
    return HTTPSeeOther(request.route_url("company_people", company_id=request.company.id))
