"""The Data tab of company settings (export), the operators' page of a company (export,
erasure) and a person's own data (download, delete the account)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts import end_session
from mypages.accounts.models import User
from mypages.companies.models import Company
from mypages.contract import CompanyInfo
from mypages.i18n import _
from mypages.privacy import erasure, export
from mypages.privacy.models import PENDING, CompanyErasure
from mypages.privacy.own_data import own_archive
from mypages.services import clock
from mypages.work import work_of

#: how often a page waiting for an export looks again, in seconds
REFRESH = 2


class _ThenGone:
    """A download's body: the blob read in chunks; when the server is done with it, the
    blob is deleted (the archive is downloaded once)."""

    def __init__(self, stream, gone):
        self.stream, self.gone = stream, gone

    def __iter__(self):
        return iter(self.stream)

    def close(self):
        try:
            self.stream.close()
        finally:
            self.gone()


def _download(request, company: CompanyInfo, export_id: int, name: str) -> Response:
    row, stream = export.claim_download(work_of(request), company, export_id)
    registry, key = request.registry, row.blob_key
    response = Response(app_iter=_ThenGone(stream, lambda: export.forget_blob(
        registry, company.id, key)), content_type="application/zip")
    response.content_length = stream.info.size
    response.content_disposition = f'attachment; filename="{name}"'
    response.cache_control = "no-store"
    return response


def _exports_page(request, company_id: int) -> dict:
    exports = export.latest(request.dbsession, company_id)
    return {"exports": exports, "waiting": any(row.status in PENDING[:2] for row in exports),
            "refresh": REFRESH, "now": clock(request).now(),
            "messages": request.session.pop_flash()}


def _file_name(company_id: int, request) -> str:
    return f"company-{company_id}-data-{clock(request).now().date().isoformat()}.zip"


# -- a company's admins -----------------------------------------------------------------

@view_config(route_name="company_data", renderer="mypages:templates/company_data.jinja2",
             permission="company.admin", request_method="GET")
def company_data(request):
    return _exports_page(request, request.company.id)


def _company_refused(request, errors) -> dict:
    return {**_exports_page(request, request.company.id), "errors": errors}


@view_config(route_name="company_data", permission="company.admin", request_method="POST",
             renderer="mypages:templates/company_data.jinja2", refusal_page=_company_refused)
def start_company_export(request):
    export.request_export(work_of(request), request.company)
    request.session.flash(request.translate(_(
        "The export has started. This page shows how far it has come; you can leave it and "
        "come back.")))
    return HTTPSeeOther(request.route_url("company_data", company_id=request.company.id))


@view_config(route_name="company_data_download", permission="company.admin",
             request_method="GET")
def download_company_export(request):
    return _download(request, request.company, int(request.matchdict["export_id"]),
                     _file_name(request.company.id, request))


# -- operators -------------------------------------------------------------------------

def _company(request) -> Company:
    company = request.dbsession.get(Company, int(request.matchdict["company_id"]))
    if company is None:
        raise HTTPNotFound()
    return company


@view_config(route_name="operator_company",
             renderer="mypages:templates/operator_company.jinja2", permission="operator",
             request_method="GET")
def operator_company(request):
    company = _company(request)
    return {**_exports_page(request, company.id), "company": company,
            "confirmation": erasure.confirmation_of(company),
            "leaving": erasure.people_leaving(request.dbsession, company.id)}


def _operator_refused(request, errors) -> dict:
    return {**operator_company(request), "errors": errors}


@view_config(route_name="operator_company", form_action="export", permission="operator",
             request_method="POST", renderer="mypages:templates/operator_company.jinja2",
             refusal_page=_operator_refused)
def operator_export(request):
    company = _company(request)
    export.request_export(work_of(request), CompanyInfo.of(company))
    request.session.flash(request.translate(_(
        "The export has started. This page shows how far it has come; you can leave it and "
        "come back.")))
    return HTTPSeeOther(request.route_url("operator_company", company_id=company.id))


@view_config(route_name="operator_company", form_action="erase", permission="operator",
             request_method="POST", require_reauth=True,
             renderer="mypages:templates/operator_company.jinja2", refusal_page=_operator_refused)
def operator_erase(request):
    company = _company(request)
    record = erasure.erase_company(work_of(request), company.id,
                                   request.POST.get("confirmation", ""))
    request.session.flash(request.translate(_(
        "The company ${number} was erased, with all its data.",
        mapping={"number": record.org_number or company.id})))
    return HTTPSeeOther(request.route_url("operator"))


@view_config(route_name="operator_erasures",
             renderer="mypages:templates/operator_erasures.jinja2", permission="operator",
             request_method="GET")
def operator_erasures(request):
    """What is left of the erased companies: which number, when, by whom."""
    rows = request.dbsession.execute(
        select(CompanyErasure, User.email).outerjoin(User, User.id == CompanyErasure.erased_by_id)
        .order_by(CompanyErasure.erased_at.desc()).limit(500)).all()
    return {"erasures": rows}


@view_config(route_name="operator_company_download", permission="operator",
             request_method="GET")
def operator_download(request):
    company = CompanyInfo.of(_company(request))
    return _download(request, company, int(request.matchdict["export_id"]),
                     _file_name(company.id, request))


# -- a person's own data ------------------------------------------------------------------

@view_config(route_name="own_data", renderer="mypages:templates/own_data.jinja2",
             permission="signed-in", request_method="GET")
def own_data(request):
    return {"last_admin_of": erasure.companies_left_without_admin(request.dbsession,
                                                                  request.user.id),
            "messages": request.session.pop_flash()}


@view_config(route_name="own_data_download", permission="signed-in", request_method="GET")
def own_data_download(request):
    now = clock(request).now()
    file = own_archive(request.dbsession, request.registry, request.user.id, now)
    request.audit("account.data_downloaded", company=None)
    response = Response(app_iter=file, content_type="application/zip")
    response.content_disposition = f'attachment; filename="my-data-{now.date().isoformat()}.zip"'
    response.cache_control = "no-store"
    return response


def _own_refused(request, errors) -> dict:
    return {**own_data(request), "errors": errors}


@view_config(route_name="own_data", form_action="delete", permission="signed-in",
             request_method="POST", require_reauth=True,
             renderer="mypages:templates/own_data.jinja2", refusal_page=_own_refused)
def delete_own_account(request):
    if request.POST.get("confirmation", "").strip().lower() != request.user.email:
        raise erasure.ErasureRefused(_(
            "Type your e-mail address to confirm that your account is to be deleted."))
    erasure.delete_account(work_of(request), request.user.id)
    end_session(request)
    request.session.flash(request.translate(_("Your account was deleted.")))
    return HTTPSeeOther(request.route_url("login"))


@view_config(route_name="own_data", permission="signed-in", request_method="POST",
             renderer="mypages:templates/own_data.jinja2", refusal_page=_own_refused)
def unknown_own_data_action(request):
    raise erasure.ErasureRefused(_("Unknown action."))


@view_config(route_name="operator_company", permission="operator", request_method="POST",
             renderer="mypages:templates/operator_company.jinja2",
             refusal_page=_operator_refused)
def unknown_operator_company_action(request):
    _company(request)
    raise erasure.ErasureRefused(_("Unknown action."))
