"""A Refusal raised anywhere below a view: shown translated, with its status, and nothing
the request wrote is kept but what was written on its own.

The views under test are added to the real application by this module's ``includeme``
(``pyramid.includes``), as a plugin would add them.
"""
import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select
from webtest import TestApp

from mypages.audit.models import AuditEvent
from mypages.db import committed_on_its_own
from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.services import audit_writer
from mypages.testing.plugin import build_app, csrf_token, sign_in

UNKNOWN = _("Unknown action.")


def archive(request, company):
    """A domain function: uses up an attempt on its own, writes in the request, then refuses."""
    with committed_on_its_own(request.registry) as own:
        audit_writer(request).record(own, "test.attempt_used", company_id=company.id)
    request.audit("test.written")
    request.dbsession.flush()  # on SQLite the request now holds the write lock
    raise Refusal(UNKNOWN).audited("test.refused", target="archive")


def archive_view(request):
    archive(request, request.company)
    return {"errors": []}


def archive_page(request, errors):
    return {"errors": [request.translate(error) for error in errors]}


def several(request):
    raise Refusal([UNKNOWN, _("There is no such domain.")], status=409)


def includeme(config):
    from mypages.companies import company_context

    config.add_route("test_archive", "/c/{company_id}/_test/archive", factory=company_context)
    config.add_view(archive_view, route_name="test_archive", permission="company.admin",
                    renderer="json", refusal_page=archive_page)
    config.add_route("test_archive_plain", "/c/{company_id}/_test/archive-plain",
                     factory=company_context)
    config.add_view(archive_view, route_name="test_archive_plain", permission="company.admin")
    config.add_route("test_several", "/_test/several")
    config.add_view(several, route_name="test_several")


@pytest.fixture(scope="module")
def built(mypages_settings):
    app = build_app(dict(mypages_settings, **{"pyramid.includes": __name__}), migrate=False)
    yield app
    app.registry["db.engine"].dispose()


@pytest.fixture
def browser(app, built):  # ``app``: migrated, and emptied after the test
    return TestApp(built, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})


@pytest.fixture
def admin_browser(browser, factory):
    company = factory.company()
    admin = factory.user(company=company, role="admin", locale="sv")
    sign_in(browser, admin.email)
    return browser, company


def actions(dbsession):
    dbsession.expire_all()
    return [event.action for event in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.action.like("test.%")).order_by(AuditEvent.id))]


def test_a_refusal_on_the_views_page_is_translated_and_keeps_only_what_was_written_on_its_own(
        admin_browser, dbsession):
    browser, company = admin_browser
    token = csrf_token(browser, f"/c/{company.id}/settings/modules")
    refused = browser.post(f"/c/{company.id}/_test/archive", {"csrf_token": token}, status=400)
    assert refused.json == {"errors": ["Okänd åtgärd."]}
    assert actions(dbsession) == ["test.attempt_used", "test.refused"]
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "test.refused")).one()
    assert (event.company_id, event.target) == (company.id, "archive")
    assert event.actor_id is not None


def test_without_a_page_of_its_own_a_refusal_is_shown_on_the_error_page(admin_browser, dbsession):
    browser, company = admin_browser
    token = csrf_token(browser, f"/c/{company.id}/settings/modules")
    refused = browser.post(f"/c/{company.id}/_test/archive-plain", {"csrf_token": token},
                           status=400)
    page = refused.html.find(attrs={"data-reason": "refused"})
    assert page.h1.text == "Det här går inte att göra"
    assert page.find(role="alert").text == "Okänd åtgärd."
    assert actions(dbsession) == ["test.attempt_used", "test.refused"]


def test_several_messages_and_a_status_of_its_own(browser):
    refused = browser.get("/_test/several", headers={"Accept-Language": "en"}, status=409)
    assert refused.html.find(role="alert").text == "Unknown action. There is no such domain."


def test_a_refusal_page_needs_a_renderer_to_show_it_with():
    config = Configurator()
    config.include("mypages.web.refusals")
    config.add_view(lambda request: {}, name="x", refusal_page=archive_page)
    with pytest.raises(ConfigurationError, match="no renderer"):
        config.commit()
