"""``require_reauth=``: a view for a sensitive change first asks for a recent proof.

The views under test are added to the real application by this module's ``includeme``.
"""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts.models import UserSession
from mypages.db import utcnow
from mypages.testing.plugin import build_app, csrf_token, sign_in


def sensitive(request):
    return {"done": True}


def includeme(config):
    config.add_route("test_sensitive", "/_test/sensitive")
    config.add_view(sensitive, route_name="test_sensitive", permission="signed-in",
                    request_method="GET", require_reauth=True, renderer="json")
    config.add_view(sensitive, route_name="test_sensitive", permission="signed-in",
                    request_method="POST", require_reauth="account", renderer="json")
    config.add_route("test_ordinary", "/_test/ordinary")
    config.add_view(sensitive, route_name="test_ordinary", permission="signed-in",
                    require_reauth=False, renderer="json")


@pytest.fixture(scope="module")
def built(mypages_settings):
    app = build_app(dict(mypages_settings, **{"pyramid.includes": __name__}), migrate=False)
    yield app
    app.registry["db.engine"].dispose()


@pytest.fixture
def browser(app, built, factory):
    testapp = TestApp(built, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    user = factory.user()
    sign_in(testapp, user.email)
    return testapp, user


def age_proofs(dbsession, user, minutes):
    old = (utcnow() - dt.timedelta(minutes=minutes)).isoformat()
    for row in dbsession.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        row.amr = {method: old for method in row.amr}
    dbsession.commit()


def reauth_next(response) -> str:
    location = urlsplit(response.location)
    assert location.path == "/account/confirm"
    return parse_qs(location.query)["next"][0]


def test_a_recent_proof_goes_straight_through(browser):
    testapp, _user = browser
    assert testapp.get("/_test/sensitive").json == {"done": True}


def test_an_old_proof_is_sent_to_confirm_then_back(browser, dbsession, factory):
    testapp, user = browser
    age_proofs(dbsession, user, minutes=11)
    assert testapp.get("/_test/ordinary").json == {"done": True}
    asked = testapp.get("/_test/sensitive", {"tab": "2"}, status=303)
    assert reauth_next(asked) == "/_test/sensitive?tab=2"
    # a form posted elsewhere comes back to the route the view names
    token = csrf_token(testapp, "/account")
    posted = testapp.post("/_test/sensitive", {"csrf_token": token}, status=303)
    assert reauth_next(posted) == "/account"
    form = testapp.get(asked.location).forms["reauth-form"]
    form["password"] = factory.password
    back = form.submit(status=303)
    assert back.location == "http://localhost/_test/sensitive?tab=2"
    assert testapp.get(back.location).json == {"done": True}
