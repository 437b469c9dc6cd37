"""Watching the trail: each rule raises an alert when it should, not when it should not, and
once; alerts reach the company's admins (bell, and e-mail as they choose) and the operators'
list; a plugin adds rules through ``mypages_audit_rules``; a rule that raises or writes
harms nothing."""
import datetime as dt

import pytest
import transaction
from sqlalchemy import select
from webtest import TestApp

from mypages.contract import AuditAlert, AuditRule, JobContext
from mypages.db import session_in_transaction, utcnow
from mypages.governance import watch
from mypages.governance.models import AuditWatch, SecurityAlert
from mypages.hookspecs import hookimpl
from mypages.plugins import PluginError
from mypages.i18n import _
from mypages.inbox.models import Notification, NotificationPreference
from mypages.jobs.models import QueuedJob
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.services import settings_of
from mypages.testing.plugin import csrf_token, enrol_two_factor, sign_in, work_as


def new_browser(app, address="127.0.0.1") -> TestApp:
    return TestApp(app, extra_environ={"REMOTE_ADDR": address, "HTTP_HOST": "localhost"})


@pytest.fixture
def acme(app, factory):
    company = factory.company("Acme AB")
    admin = factory.user("admin@acme.se", company=company, role="admin", display_name="Ada")
    member = factory.user("member@acme.se", company=company, display_name="Max")
    return company, admin, member


@pytest.fixture
def watching(app, run_jobs, clock):
    """``watching()`` runs the watch as the worker does: due every 30 seconds."""
    def run():
        clock.shift(31)
        return run_jobs()
    run_jobs()
    return run


def alerts(dbsession, rule=None) -> list[SecurityAlert]:
    dbsession.expire_all()
    query = select(SecurityAlert).order_by(SecurityAlert.id)
    if rule is not None:
        query = query.where(SecurityAlert.rule == rule)
    return dbsession.scalars(query).all()


def bell(dbsession, user, rule: str | None = None) -> list[Notification]:
    """The person's security alerts (of the rule titled ``rule``)."""
    dbsession.expire_all()
    notes = dbsession.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == watch.KIND)
        .order_by(Notification.id)).all()
    return [note for note in notes
            if rule is None or note.title["mapping"]["rule"]["$message"]["msgid"] == rule]


def fail_sign_in(app, email, times, address="127.0.0.1"):
    browser = new_browser(app, address)
    for _ in range(times):
        sign_in(browser, email, "not the password", status=(400, 429))


# -- many failed sign-ins --------------------------------------------------------------

def test_many_failed_sign_ins_to_one_account_alert_its_companys_admins_once(
        app, acme, watching, dbsession, change_settings):
    company, admin, member = acme
    change_settings(alerts=settings_of(app).alerts.__class__(
        failed_sign_ins_per_account=4, failed_sign_ins_per_address=100))
    fail_sign_in(app, member.email, 3)
    watching()
    assert alerts(dbsession) == []  # three is not many
    fail_sign_in(app, member.email, 3)  # the fourth crosses the line, the rest are quiet
    watching()
    [alert] = alerts(dbsession)
    assert (alert.rule, alert.company_id, alert.subject) == (
        "failed_sign_ins_account", company.id, member.email)
    [note] = bell(dbsession, admin)
    assert note.link.startswith(f"/c/{company.id}/settings/audit?action=account.sign_in_")
    assert note.body["mapping"]["count"] == 4
    assert bell(dbsession, member) == []  # members are not told
    watching()
    assert len(alerts(dbsession)) == 1  # nothing is judged twice


def test_failed_sign_ins_to_another_account_after_the_window_alert_again(
        app, acme, watching, dbsession, change_settings, clock):
    company, admin, member = acme
    change_settings(alerts=settings_of(app).alerts.__class__(
        failed_sign_ins_per_account=2, failed_sign_ins_per_address=100))
    fail_sign_in(app, member.email, 2)
    fail_sign_in(app, admin.email, 1)
    watching()
    assert [a.subject for a in alerts(dbsession)] == [member.email]
    clock.shift(16 * 60)  # past the window: a new pile is a new alert
    fail_sign_in(app, member.email, 2)
    watching()
    assert [a.subject for a in alerts(dbsession)] == [member.email, member.email]


def test_many_failed_sign_ins_from_one_address_alert_even_across_accounts(
        app, acme, factory, watching, dbsession, change_settings):
    company, admin, member = acme
    third = factory.user("third@acme.se", company=company)
    change_settings(alerts=settings_of(app).alerts.__class__(
        failed_sign_ins_per_account=100, failed_sign_ins_per_address=3))
    fail_sign_in(app, member.email, 1, address="203.0.113.9")
    fail_sign_in(app, third.email, 1, address="203.0.113.9")
    fail_sign_in(app, admin.email, 1, address="198.51.100.1")
    watching()
    assert alerts(dbsession) == []
    fail_sign_in(app, admin.email, 2, address="203.0.113.9")
    watching()
    [alert] = alerts(dbsession)
    assert (alert.rule, alert.subject, alert.company_id) == (
        "failed_sign_ins_address", "203.0.113.9", company.id)


def test_failed_sign_ins_to_nobodys_address_alert_the_operators(app, factory, watching,
                                                                dbsession, change_settings):
    operator = factory.user("ops@platform.se", is_operator=True)
    change_settings(alerts=settings_of(app).alerts.__class__(
        failed_sign_ins_per_account=2, failed_sign_ins_per_address=100))
    fail_sign_in(app, "nobody@nowhere.se", 2)
    watching()
    [alert] = alerts(dbsession)
    assert (alert.company_id, alert.subject) == (None, "nobody@nowhere.se")
    [note] = bell(dbsession, operator)
    assert note.link == "/operator/alerts"


# -- one event is enough -----------------------------------------------------------------

def test_a_break_glass_sign_in_alerts_the_admins_once(app, acme, factory, testapp, watching,
                                                      dbsession):
    company, admin, member = acme
    keeper = factory.user("keeper@acme.se", company=company, role="admin")
    dbsession.add(CompanyPolicy(company_id=company.id, password_allowed=False))
    dbsession.add(BreakGlassAdmin(company_id=company.id, user_id=keeper.id))
    dbsession.commit()
    sign_in(testapp, keeper.email)
    enrol_two_factor(testapp)
    testapp.get(f"/c/{company.id}/", status=200)
    testapp.get(f"/c/{company.id}/settings/modules", status=200)
    watching()
    [alert] = alerts(dbsession, "break_glass_sign_in")
    assert alert.subject == str(keeper.id)
    assert [len(bell(dbsession, person, "A break-glass sign-in"))
            for person in (admin, keeper, member)] == [1, 1, 0]
    # by e-mail too, to those who did not choose otherwise
    mailed = {job.payload["notification_id"] for job in dbsession.scalars(
        select(QueuedJob).where(QueuedJob.name == "inbox.mail"))}
    assert {note.id for note in bell(dbsession, admin, "A break-glass sign-in")} <= mailed


def test_an_admin_who_chose_no_e_mail_gets_the_alert_only_in_the_bell(app, acme, watching,
                                                                      dbsession):
    company, admin, member = acme
    dbsession.add(NotificationPreference(user_id=admin.id, kind=watch.KIND, email=False))
    dbsession.commit()
    with work_as(app, user=admin, company=company) as (work, info):
        work.audit("api_token.created", company=info, target="CI", api_token=5,
                   scopes=["audit:read"])
    watching()
    assert len(bell(dbsession, admin)) == 1
    assert dbsession.scalars(select(QueuedJob).where(QueuedJob.name == "inbox.mail")).all() == []


def test_a_member_made_admin_alerts_but_an_admin_made_member_does_not(app, acme, signed_in,
                                                                      watching, dbsession):
    company, admin, member = acme
    browser = signed_in(admin)
    role = f"/c/{company.id}/settings/people/{member.id}/role"
    token = csrf_token(browser, "/account")
    browser.post(role, {"csrf_token": token, "role": "admin"}, status=303)
    watching()
    [alert] = alerts(dbsession, "new_admin")
    assert alert.subject == str(member.id)
    assert "Max" in str(alert.text["mapping"]["person"])
    browser.post(role, {"csrf_token": token, "role": "member"}, status=303)
    watching()
    assert len(alerts(dbsession, "new_admin")) == 1


def test_an_accepted_invitation_as_admin_alerts(app, acme, watching, dbsession):
    company, admin, member = acme
    with work_as(app, user=member, company=company) as (work, info):
        work.audit("people.invitation_accepted", company=info, target="m@acme.se", role="member")
        work.audit("people.invitation_accepted", company=info, target="a@acme.se", role="admin")
    watching()
    [alert] = alerts(dbsession, "new_admin")
    assert alert.action == "people.invitation_accepted"


def test_a_weakened_policy_alerts_a_stronger_one_does_not(app, acme, signed_in, watching,
                                                          dbsession):
    company, admin, member = acme
    browser = signed_in(admin)

    def save(**values):
        form = browser.get(f"/c/{company.id}/settings/security").forms["security-form"]
        for key, value in values.items():
            form[key] = value
        form.submit(status=303)

    save(require_mfa=True, idle_minutes="30", password_min_length="16")
    enrol_two_factor(browser)
    watching()
    assert alerts(dbsession, "weakened_policy") == []
    save(idle_minutes="60")  # a longer idle timeout lets more in
    watching()
    [alert] = alerts(dbsession, "weakened_policy")
    assert alert.action == "policy.changed"
    save(password_min_length="18")
    watching()
    assert len(alerts(dbsession, "weakened_policy")) == 1


@pytest.mark.parametrize("changes, weaker", [
    ({"require_mfa": [True, False]}, True),
    ({"require_mfa": [False, True]}, False),
    ({"password_min_length": [16, 12]}, True),
    ({"absolute_hours": [8, None]}, True),
    ({"dormant_days": [None, 30]}, False),
    ({"dormant_days": [30, 90]}, True),
    ({"break_glass": [[1], [1, 2]]}, True),
    ({"break_glass": [[1, 2], [1]]}, False),
])
def test_what_counts_as_weaker(app, acme, watching, dbsession, changes, weaker):
    company, admin, member = acme
    with work_as(app, user=admin, company=company) as (work, info):
        work.audit("policy.changed", company=info, changes=changes)
    watching()
    assert len(alerts(dbsession, "weakened_policy")) == int(weaker)


def test_the_platform_policy_weakened_alerts_the_operators(app, factory, watching, dbsession):
    operator = factory.user("ops@platform.se", is_operator=True)
    with work_as(app, user=operator) as (work, _):
        work.audit("platform.policy_changed", changes={"require_mfa": [False, True]})
        work.audit("platform.policy_changed", changes={"require_mfa": [True, False]})
    watching()
    [alert] = alerts(dbsession, "weakened_policy")
    assert alert.company_id is None
    assert len(bell(dbsession, operator)) == 1


def test_an_api_token_created_alerts(app, acme, signed_in, watching, dbsession):
    company, admin, member = acme
    browser = signed_in(admin)
    enrol_two_factor(browser)
    page = browser.get(f"/c/{company.id}/settings/api")
    form = page.forms["token-form"]
    form["name"] = "CI"
    for checkbox in form.fields["scope"]:
        checkbox.checked = checkbox._value == "audit:read"
    form.submit(status=201)
    watching()
    [alert] = alerts(dbsession, "api_token_created")
    assert alert.text["mapping"]["token"] == "CI"


def test_an_admin_signing_in_from_a_new_browser_alerts_a_member_does_not(
        app, acme, watching, dbsession):
    company, admin, member = acme
    browser = new_browser(app)
    sign_in(browser, admin.email)
    sign_in(new_browser(app), member.email)
    watching()
    assert alerts(dbsession, "admin_new_device") == []  # a first sign-in is news to nobody
    sign_in(new_browser(app), member.email)
    browser = new_browser(app)
    sign_in(browser, admin.email)
    watching()
    [alert] = alerts(dbsession, "admin_new_device")
    assert alert.subject == str(admin.id)
    # the same browser again: known
    browser.post("/logout", {"csrf_token": csrf_token(browser, f"/c/{company.id}/")})
    sign_in(browser, admin.email)
    watching()
    assert len(alerts(dbsession, "admin_new_device")) == 1


# -- the watch itself ----------------------------------------------------------------------

def test_every_event_is_read_once_and_the_cursor_follows_the_chain(app, acme, watching,
                                                                   dbsession, monkeypatch):
    company, admin, member = acme
    monkeypatch.setattr(watch, "BATCH", 2)  # several batches per run
    with work_as(app, user=admin, company=company) as (work, info):
        for number in range(5):
            work.audit("api_token.created", company=info, target=f"t{number}", api_token=number)
    watching()
    assert [a.subject for a in alerts(dbsession)] == ["0", "1", "2", "3", "4"]
    assert dbsession.get(AuditWatch, company.id).watched_seq == 5
    watching()
    assert len(alerts(dbsession)) == 5


def test_a_chain_read_by_one_worker_is_not_read_again_by_another(app, acme, dbsession):
    company, admin, member = acme
    with work_as(app, user=admin, company=company) as (work, info):
        work.audit("api_token.created", company=info, target="t", api_token=1)
    rules_of = {"api_token.created": [(watch.audit_rules(app.registry)["api_token_created"][0],
                                       "core")]}
    for _attempt in range(2):  # the second run finds the cursor moved
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            job = JobContext(session_in_transaction(app.registry["db.session_factory"], tm),
                             app.registry, utcnow(), {})
            watch.watch_batch(job, company.id, rules_of)
    assert len(alerts(dbsession)) == 1


def test_a_plugin_adds_a_rule_and_one_that_fails_harms_nothing(app, acme, watching,
                                                               dbsession, monkeypatch):
    company, admin, member = acme

    def notes_deleted(context, event):
        if context.count(event, dt.timedelta(minutes=5), same=("actor_id",)) < 2:
            return None
        return AuditAlert(_("${person} deleted many notes"), values={"person": event.actor_label},
                          subject=str(event.actor_id), quiet_for=dt.timedelta(minutes=5))

    def broken(context, event):
        context.dbsession.add(CompanyPolicy(company_id=company.id, require_mfa=True))
        context.dbsession.flush()
        raise RuntimeError("a bug in a plugin")

    class Plugin:
        @hookimpl
        def mypages_audit_rules(self):
            return [AuditRule("notes.bulk_delete", _("Many notes deleted"),
                              ("notes.note_deleted",), notes_deleted),
                    AuditRule("notes.broken", _("Broken"), ("notes.note_deleted",), broken)]

    rules = dict(watch.audit_rules(app.registry))
    pm = app.registry["plugins.manager"]
    pm.register(Plugin(), name="rules-plugin")
    try:
        watch.build_on_ready(app.registry)
        with work_as(app, user=admin, company=company) as (work, info):
            for number in range(3):
                work.audit("notes.note_deleted", company=info, target=str(number))
        watching()
    finally:
        pm.unregister(name="rules-plugin")
        app.registry[watch.RULES_KEY] = rules
    [alert] = alerts(dbsession)
    assert (alert.rule, alert.event_seq) == ("notes.bulk_delete", 2)
    assert dbsession.get(CompanyPolicy, company.id) is None  # what the broken rule wrote


def test_two_plugins_with_one_rule_key_stop_start_up(app):
    class One:
        @hookimpl
        def mypages_audit_rules(self):
            return [AuditRule("new_admin", _("Mine"), ("x.y",), lambda c, e: None)]

    rules = dict(watch.audit_rules(app.registry))
    pm = app.registry["plugins.manager"]
    pm.register(One(), name="one")
    try:
        with pytest.raises(PluginError, match="new_admin"):
            watch.build_on_ready(app.registry)
    finally:
        pm.unregister(name="one")
        app.registry[watch.RULES_KEY] = rules


def test_operators_list_the_alerts_of_every_company(app, acme, factory, watching, dbsession,
                                                    testapp):
    company, admin, member = acme
    operator = factory.user("ops@platform.se", is_operator=True)
    with work_as(app, user=admin, company=company) as (work, info):
        work.audit("api_token.created", company=info, target="CI", api_token=3,
                   scopes=["audit:read"])
    watching()
    sign_in(testapp, operator.email)
    enrol_two_factor(testapp)
    page = testapp.get("/operator/alerts")
    [item] = page.html.select("#security-alerts li")
    assert item["data-rule"] == "api_token_created"
    assert "Acme AB" in item.text and "CI" in item.text and "audit:read" in item.text
    testapp.get("/operator/alerts?before=x", status=400)
    # a company admin is no operator
    testapp2 = new_browser(app)
    sign_in(testapp2, admin.email)
    testapp2.get("/operator/alerts", status=403)



def test_alerts_are_purged_with_the_trail_after_its_retention(app, acme, watching, dbsession,
                                                              clock, run_jobs):
    company, admin, member = acme
    with work_as(app, user=admin, company=company) as (work, info):
        work.audit("api_token.created", company=info, target="old", api_token=1)
    watching()
    assert len(alerts(dbsession)) == 1
    clock.shift(0, days=366)
    run_jobs()
    assert alerts(dbsession) == []
