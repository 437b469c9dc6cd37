import pytest


@pytest.fixture(autouse=True)
def in_english(request):
    """The pages in English, so the tests read what a person reads in the messages' source."""
    if "testapp" in request.fixturenames:
        request.getfixturevalue("testapp").set_cookie("mypages_locale", "en")
