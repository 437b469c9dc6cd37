"""The Audit trail tab of company settings and the operators' platform trail: browse,
filter, page, download as CSV; the operators' list of security alerts."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from mypages.governance import dormancy, trail, watch
from mypages.i18n import _, formats_of
from mypages.inbox.messages import render
from mypages.people.views import PEOPLE_FORM, person_of
from mypages.web.inputs import whole_number
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


@view_config(route_name="operator_alerts", renderer="mypages:templates/operator_alerts.jinja2",
             permission="operator", request_method="GET")
def operator_alerts(request):
    """Every alert the watch raised, of every company and the platform, newest first."""
    before = request.GET.get("before", "").strip()
    before_id = whole_number(before, 1, 2**31 - 1) if before else None
    if before and before_id is None:
        request.response.status = 400
    rows, older = watch.alerts_page(request.dbsession, before_id)
    rules = watch.audit_rules(request.registry)
    formats, localizer = formats_of(request), request.localizer
    alerts = [{"row": row, "text": render(row.text, localizer, formats),
               "rule": request.translate(rules[row.rule][0].title) if row.rule in rules
               else row.rule} for row in rows]
    return {"alerts": alerts, "bad_page": before and before_id is None,
            "older": request.route_path("operator_alerts", _query={"before": older})
            if older else None}


@view_config(route_name="company_person", form_action="restore", **PEOPLE_FORM)
def restore_membership(request):
    """The People tab: let back in someone whose membership went unused (dormant access)."""
    dormancy.restore(work_of(request), request.company, person_of(request))
    request.session.flash(request.translate(_("The person can open the company again.")))
    return HTTPSeeOther(request.route_url("company_people", company_id=request.company.id))
