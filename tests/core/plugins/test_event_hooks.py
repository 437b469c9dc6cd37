"""Event hooks are delivered to each plugin on its own: one that raises is logged and audited."""
from sqlalchemy import select
from webtest import TestApp

from mypages.audit.models import AuditEvent
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token, sign_in

LISTENER = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "1.0"

    @hookimpl
    def mypages_module_state_changed(request, module_key, new_state):
        request.audit("test.event_heard", target={name!r}, module=module_key,
                      new_state=new_state.value)
'''

FAILING = '''
    from mypages.toolkit import hookimpl

    mypages_hookspec = "1.0"

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
