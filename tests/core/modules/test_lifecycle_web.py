"""The module lifecycle through the web pages, as a company admin does it."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from mypages.audit.models import AuditEvent
from mypages.modules.models import ModuleActivation, ModuleSettings, ModuleState, Order
from mypages.testing.plugin import csrf_token, enrol_two_factor


def post_action(app, company, key, action, status=303):
    token = csrf_token(app, f"/c/{company.id}/")
    return app.post(f"/c/{company.id}/settings/modules/{key}/{action}", {"csrf_token": token},
                    status=status)


@pytest.fixture
def admin_app(factory, signed_in):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    return signed_in(admin), company


def state(dbsession, company, key="notes"):
    dbsession.expire_all()
    row = dbsession.scalars(select(ModuleActivation).where(
        ModuleActivation.company_id == company.id, ModuleActivation.module_key == key)).one_or_none()
    return row.state if row else ModuleState.available


def audit_actions(dbsession, company):
    """The company's events but its people's own (their sign-ins are in its trail too)."""
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEvent.action).where(
        AuditEvent.company_id == company.id, AuditEvent.action.not_like("account.%"))
        .order_by(AuditEvent.id)))


def test_catalogue_shows_available_module_with_price(admin_app):
    app, company = admin_app
    page = app.get(f"/c/{company.id}/settings/modules")
    card = page.html.find(id="module-notes")
    assert card["data-state"] == "available"
    assert "49" in card.find(class_="price").text


def test_activate_starts_ten_day_trial_and_shows_days_left(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "activate")
    page = app.get(f"/c/{company.id}/settings/modules")
    card = page.html.find(id="module-notes")
    assert card["data-state"] == "trial"
    assert "10" in card.find(class_="state").text
    row = dbsession.scalars(select(ModuleActivation)).one()
    assert row.state == ModuleState.trial
    assert row.trial_ends_at - row.trial_started_at == dt.timedelta(days=10)
    assert audit_actions(dbsession, company) == ["module.trial_started"]


def test_module_views_and_tabs_only_while_entitled(admin_app, dbsession):
    app, company = admin_app
    page = app.get(f"/c/{company.id}/notes", status=404)
    assert 'data-reason="module-not-active"' in page.text
    assert f"/c/{company.id}/settings/notes" not in app.get(f"/c/{company.id}/settings/modules").text
    post_action(app, company, "notes", "activate")
    app.get(f"/c/{company.id}/notes", status=200)
    assert f"/c/{company.id}/settings/notes" in app.get(f"/c/{company.id}/settings/modules").text
    post_action(app, company, "notes", "deactivate")
    app.get(f"/c/{company.id}/notes", status=404)
    app.get(f"/c/{company.id}/settings/notes", status=404)


def test_double_activation_is_refused_and_changes_nothing(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "activate")
    page = post_action(app, company, "notes", "activate", status=400)
    assert page.html.find(class_="error")
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 1
    assert audit_actions(dbsession, company) == ["module.trial_started"]


def test_one_trial_per_company_and_module_also_after_deactivation(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "activate")
    post_action(app, company, "notes", "deactivate")
    assert state(dbsession, company) == ModuleState.inactive
    post_action(app, company, "notes", "activate", status=400)
    assert state(dbsession, company) == ModuleState.inactive


@pytest.mark.parametrize("action", ["activate", "buy", "deactivate"])
def test_unknown_module_is_refused_with_a_clear_message(admin_app, dbsession, action):
    app, company = admin_app
    page = post_action(app, company, "no_such_module", action, status=400)
    assert "no_such_module" in page.html.find(class_="error").text
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 0
    assert dbsession.scalar(select(func.count()).select_from(Order)) == 0


def test_unknown_action_is_refused(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "steal", status=400)
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 0


def test_buy_records_an_order_and_operators_see_it(admin_app, dbsession, factory, signed_in):
    app, company = admin_app
    post_action(app, company, "notes", "activate")
    post_action(app, company, "notes", "buy")
    assert state(dbsession, company) == ModuleState.active
    order = dbsession.scalars(select(Order)).one()
    assert (order.company_id, order.module_key, order.price) == (company.id, "notes", "49 SEK")
    post_action(app, company, "notes", "buy", status=400)  # already active
    assert dbsession.scalar(select(func.count()).select_from(Order)) == 1
    assert audit_actions(dbsession, company) == ["module.trial_started", "module.purchased"]
    app.get("/operator/orders", status=403)  # a company admin is not an operator
    operator = factory.user(is_operator=True)
    app.reset()
    operator_app = signed_in(operator)
    enrol_two_factor(operator_app)  # operator pages need a second factor
    page = operator_app.get("/operator/orders")
    assert company.name in page.text


def test_buy_directly_without_trial_and_after_expiry(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "buy")
    assert state(dbsession, company) == ModuleState.active
    post_action(app, company, "notes", "deactivate")
    post_action(app, company, "notes", "buy")
    assert state(dbsession, company) == ModuleState.active


def test_settings_are_kept_through_deactivation(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "activate")
    form = app.get(f"/c/{company.id}/settings/notes").forms["notes-settings-form"]
    form["heading"] = "Our shared notes"
    form.submit(status=303)
    post_action(app, company, "notes", "deactivate")
    assert dbsession.scalars(select(ModuleSettings.values)).one() == {"heading": "Our shared notes"}
    post_action(app, company, "notes", "buy")
    assert "Our shared notes" in app.get(f"/c/{company.id}/notes").text


def test_expired_trial_is_not_entitled_even_before_the_job_runs(admin_app, dbsession):
    app, company = admin_app
    post_action(app, company, "notes", "activate")
    row = dbsession.scalars(select(ModuleActivation)).one()
    row.trial_ends_at = row.trial_started_at - dt.timedelta(seconds=1)
    dbsession.commit()
    app.get(f"/c/{company.id}/notes", status=404)
    assert state(dbsession, company) == ModuleState.trial  # only the job moves it to expired


def test_members_cannot_change_modules(factory, signed_in, dbsession):
    company = factory.company()
    member = factory.user(company=company, role="member")
    app = signed_in(member)
    app.get(f"/c/{company.id}/settings/modules", status=403)
    post_action(app, company, "notes", "activate", status=403)
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 0


def test_state_changing_requests_need_the_csrf_token(admin_app, dbsession):
    app, company = admin_app
    app.post(f"/c/{company.id}/settings/modules/notes/activate", {}, status=400)
    app.post(f"/c/{company.id}/settings/modules/notes/activate", {"csrf_token": "forged"}, status=400)
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 0
