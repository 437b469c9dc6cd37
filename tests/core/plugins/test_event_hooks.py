"""Event hooks are delivered to each plugin on its own: one that raises is logged and audited.
They get the same records and context from a request and from a job."""
import importlib

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.jobs import Worker
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token, sign_in
from mypages.toolkit import CompanyInfo, EventContext, MypagesDeprecationWarning, UserInfo

LISTENER = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "2.0"

    @hookimpl
    def mypages_module_state_changed(context, module_key, new_state):
        context.audit("test.event_heard", target={name!r}, module=module_key,
                      new_state=new_state.value)
'''

FAILING = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "2.0"

    @hookimpl
    def mypages_module_state_changed(module_key):
        raise RuntimeError("the failing plugin fails")
'''


def test_failing_event_hook_does_not_stop_the_change_or_the_other_plugins(
        site, make_app, factory, dbsession, caplog):
    # listeners on both sides of the failing plugin, whatever order pluggy calls them in
    site.add_plugin("a_listener", LISTENER.format(name="a_listener"))
    site.add_plugin("failing", FAILING)
    site.add_plugin("z_listener", LISTENER.format(name="z_listener"))
    app = make_app()
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(web, admin.email)

    web.post(f"/c/{company.id}/settings/modules/notes/activate",
             {"csrf_token": csrf_token(web, f"/c/{company.id}/")}, status=303)

    activation = dbsession.scalars(select(ModuleActivation)
                                   .where(ModuleActivation.company_id == company.id)).one()
    assert (activation.module_key, activation.state) == ("notes", ModuleState.trial)
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.company_id == company.id)).all()
    heard = sorted(event.target for event in events if event.action == "test.event_heard")
    assert heard == ["a_listener", "z_listener"]
    failed = [event for event in events if event.action == "plugin.hook_failed"]
    assert [(event.target, event.details["hook"]) for event in failed] == [
        ("failing", "mypages_module_state_changed")]
    assert failed[0].actor_id == admin.id
    assert "plugin failing failed in mypages_module_state_changed" in caplog.text


RECORDER = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "2.0"

    calls = []
    seen = {}  # hook -> the types of its company and user

    @hookimpl
    def mypages_module_state_changed(context, company, module_key, old_state, new_state, user):
        calls.append((context, company, user, new_state))

    @hookimpl
    def mypages_user_signed_in(request, user):
        seen["mypages_user_signed_in"] = (type(user),)

    @hookimpl
    def mypages_dashboard_cards(request, company):
        seen["mypages_dashboard_cards"] = (type(company),)
        return []

    @hookimpl
    def mypages_company_settings_tabs(request, company):
        seen["mypages_company_settings_tabs"] = (type(company),)
        return []

    @hookimpl
    def mypages_purchase(request, company, user):
        seen["mypages_purchase"] = (type(company), type(user))
'''


def test_hooks_get_the_same_records_from_requests_and_jobs(site, make_app, factory, dbsession):
    package = site.add_plugin("recorder", RECORDER)
    app = make_app()
    company = factory.company(name="Records AB")
    admin = factory.user(company=company, role="admin")
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(web, admin.email)
    web.get(f"/c/{company.id}/")
    token = csrf_token(web, f"/c/{company.id}/settings/modules")
    web.post(f"/c/{company.id}/settings/modules/notes/activate", {"csrf_token": token}, status=303)
    dbsession.execute(update(ModuleActivation).values(trial_ends_at=utcnow()))
    dbsession.commit()

    Worker(app.registry).run_periodic()
    web.post(f"/c/{company.id}/settings/modules/sso/buy", {"csrf_token": token}, status=303)

    plugin = importlib.import_module(package)
    assert plugin.seen == {"mypages_user_signed_in": (UserInfo,),
                           "mypages_dashboard_cards": (CompanyInfo,),
                           "mypages_company_settings_tabs": (CompanyInfo,),
                           "mypages_purchase": (CompanyInfo, UserInfo)}
    [(by_request, company_then, user, trial), (by_job, company_later, nobody, expired),
     (_, _, _, bought)] = plugin.calls
    assert (trial, expired, bought) == (ModuleState.trial, ModuleState.expired, ModuleState.active)
    assert type(by_request) is type(by_job) is EventContext
    assert type(company_then) is type(company_later) is CompanyInfo
    assert company_then == company_later and company_then.name == "Records AB"
    assert type(user) is UserInfo and user.id == admin.id
    assert nobody is None
    assert by_request.company == company_then and by_request.user == user
    assert by_request.ip == "127.0.0.1" and by_job.ip == ""


DEPRECATED_ACTOR = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "2.0"

    @hookimpl
    def mypages_module_state_changed(context, module_key, actor):
        context.audit("test.actor_heard", target=module_key, by=actor.id)
'''


def test_a_deprecated_argument_warns_names_the_plugin_and_still_works(
        site, make_app, factory, dbsession, caplog):
    site.add_plugin("oldstyle", DEPRECATED_ACTOR)

    with pytest.warns(MypagesDeprecationWarning, match="'actor' is deprecated since hookspec 2.0"):
        app = make_app()

    assert "plugin oldstyle (" in caplog.text and "take 'user'" in caplog.text
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(web, admin.email)
    web.post(f"/c/{company.id}/settings/modules/notes/activate",
             {"csrf_token": csrf_token(web, f"/c/{company.id}/")}, status=303)
    heard = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "test.actor_heard")).one()
    assert heard.details == {"by": admin.id}


def test_a_failing_event_hook_in_a_job_is_audited_too(site, make_app, factory, dbsession):
    site.add_plugin("failing", FAILING)
    app = make_app()
    company = factory.company()
    now = utcnow()
    dbsession.add(ModuleActivation(company_id=company.id, module_key="notes",
                                   state=ModuleState.trial, trial_started_at=now,
                                   trial_ends_at=now, updated_at=now))
    dbsession.commit()

    Worker(app.registry).run_periodic()

    failed = dbsession.scalars(select(AuditEvent)
                               .where(AuditEvent.action == "plugin.hook_failed")).one()
    assert (failed.company_id, failed.actor_id, failed.target) == (company.id, None, "failing")
    assert dbsession.scalars(select(ModuleActivation.state)).one() == ModuleState.expired
