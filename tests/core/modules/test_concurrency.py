"""One trial per company and module, also when two admins click at the same moment."""
import threading

from sqlalchemy import func, select

from mypages.modules import lifecycle
from mypages.modules.models import ModuleActivation
from mypages.testing.plugin import work_as


def test_concurrent_activations_start_exactly_one_trial(app, factory, dbsession, monkeypatch):
    company = factory.company()
    admins = [factory.user(company=company, role="admin") for _ in range(2)]
    both_have_looked = threading.Barrier(2, timeout=10)
    original = lifecycle.activations

    def look_then_wait(session, company_id):
        found = original(session, company_id)
        both_have_looked.wait()  # both see "never activated" before either inserts
        return found

    monkeypatch.setattr(lifecycle, "activations", look_then_wait)
    outcomes = []

    def click(admin):
        try:
            with work_as(app, admin, company) as (work, info):
                lifecycle.activate(work, info, "notes")
            outcomes.append("started")
        except lifecycle.ModuleError as refused:
            outcomes.append(str(refused.message))

    threads = [threading.Thread(target=click, args=(admin,)) for admin in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["This module has already been activated.", "started"]
    assert dbsession.scalar(select(func.count()).select_from(ModuleActivation)) == 1
