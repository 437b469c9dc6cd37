"""Module lifecycle through the web pages, as a company admin does it."""
from sqlalchemy import select

from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token


def post_action(app, company, key, action, status=303):
    token = csrf_token(app, f"/c/{company.id}/")
    return app.post(f"/c/{company.id}/settings/modules/{key}/{action}", {"csrf_token": token},
                    status=status)


def test_activate_starts_ten_day_trial(factory, signed_in, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    app = signed_in(admin)
    post_action(app, company, "notes", "activate")
    page = app.get(f"/c/{company.id}/settings/modules")
    assert 'data-state="trial"' in page.text
    row = dbsession.scalars(select(ModuleActivation)).one()
    assert row.state == ModuleState.trial
    assert (row.trial_ends_at - row.trial_started_at).days == 10
