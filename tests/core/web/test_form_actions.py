"""``form_action=``: each action of a form is its own view callable.

The views under test are added to the real application by this module's ``includeme``.
"""
import pytest
from webtest import TestApp

from mypages.testing.plugin import build_app, csrf_token


def answer(name):
    def view(request):
        return {"view": name}
    return view


def includeme(config):
    # the action in the address
    config.add_route("test_thing", "/_test/thing/{action}", request_method="POST")
    for action in ("save", "delete"):
        config.add_view(answer(action), route_name="test_thing", form_action=action,
                        renderer="json")
    config.add_view(answer("other"), route_name="test_thing", renderer="json")
    # the action in the form: a field, or a button named after it
    config.add_route("test_page", "/_test/page")
    config.add_view(answer("page"), route_name="test_page", request_method="GET",
                    renderer="json")
    for action in ("begin", "revoke"):
        config.add_view(answer(action), route_name="test_page", form_action=action,
                        renderer="json")
    config.add_view(answer("default"), route_name="test_page", request_method="POST",
                    renderer="json")


@pytest.fixture(scope="module")
def built(mypages_settings):
    app = build_app(dict(mypages_settings, **{"pyramid.includes": __name__}), migrate=False)
    yield app
    app.registry["db.engine"].dispose()


@pytest.fixture
def browser(app, built):
    testapp = TestApp(built, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    testapp.token = csrf_token(testapp)
    return testapp


def post(browser, path, **fields):
    return browser.post(path, {"csrf_token": browser.token, **fields}).json["view"]


@pytest.mark.parametrize("action", ["save", "delete"])
def test_the_action_in_the_address_picks_its_view(browser, action):
    assert post(browser, f"/_test/thing/{action}") == action


def test_an_action_no_view_handles_goes_to_the_view_without_one(browser):
    assert post(browser, "/_test/thing/steal") == "other"
    # the address decides, not a field of the form
    assert post(browser, "/_test/thing/steal", action="save") == "other"


def test_the_action_in_the_form_picks_its_view(browser):
    assert post(browser, "/_test/page", action="begin") == "begin"
    assert post(browser, "/_test/page", action="revoke", revoke="") == "revoke"
    # a button named after its action, whose value is what it acts on
    assert post(browser, "/_test/page", revoke="12") == "revoke"
    # the action field decides before any button's name; an empty button acts on nothing
    assert post(browser, "/_test/page", action="other", revoke="12") == "default"
    assert post(browser, "/_test/page", revoke="") == "default"
    assert post(browser, "/_test/page", email="a@example.se") == "default"


def test_only_a_post_asks_for_an_action(browser):
    assert browser.get("/_test/page", {"action": "begin", "revoke": "12"}).json == {"view": "page"}


@pytest.mark.parametrize("field", ["action", "revoke"])
def test_a_file_names_no_action_and_is_refused_as_input(browser, field):
    refused = browser.post("/_test/page", {"csrf_token": browser.token},
                           upload_files=[(field, "begin.txt", b"begin")], status=400)
    assert refused.html.find(attrs={"data-reason": "invalid-input"})
