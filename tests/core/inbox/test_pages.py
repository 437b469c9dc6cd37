"""The bell, the list of notifications, marking them read, and the choice of e-mail."""
import pytest
from sqlalchemy import select

from mypages.i18n import _
from mypages.inbox import WHATS_NEW_KEY, notify
from mypages.inbox.models import Notification, NotificationPreference
from mypages.testing.plugin import work_as
from mypages.testing.web import csrf_token

TITLE = _("Single Sign On is no longer required at ${company}")


@pytest.fixture(autouse=True)
def no_whats_new(app, monkeypatch):
    """Only what a test posts: the core's own entry would arrive at sign-in too."""
    monkeypatch.setitem(app.registry, WHATS_NEW_KEY, [])


def post(app, user, count=1, **kw):
    with work_as(app) as (work, _c):
        return [i for _n in range(count)
                for i in notify(work, [user.id], "sso", TITLE, TITLE,
                                values={"company": "Exempel AB"}, **kw)]


def bell(page):
    return page.html.find("a", class_="bell")


def test_the_bell_counts_the_unread_with_a_name_that_says_so(app, factory, signed_in):
    user = factory.user(locale="en")
    browser = signed_in(user)
    empty = bell(browser.get("/account"))
    assert empty.get_text(" ", strip=True) == "Notifications"
    assert empty.find(class_="count") is None
    post(app, user, 3)
    full = bell(browser.get("/account"))
    assert full.find(class_="visually-hidden").text == "Notifications: 3 unread"
    assert full.find(class_="count").text == "3"
    assert full.find(class_="count")["aria-hidden"] == "true"
    post(app, user, 100)
    assert bell(browser.get("/account")).find(class_="count").text == "99+"


def test_the_list_shows_them_in_the_readers_language_newest_first(app, factory, signed_in):
    user = factory.user(locale="en")
    post(app, user, link="/account")
    page = signed_in(user).get("/notifications")
    [item] = page.html.select("ul.notifications li.unread")
    assert item.find("h2").a.text == "Single Sign On is no longer required at Exempel AB"
    assert item.find("h2").a["href"] == "/account"
    assert "Single Sign On (to admins)" in item.find(class_="kind").text


def test_marking_one_read_needs_the_form_and_only_reaches_ones_own(app, factory, signed_in,
                                                                   dbsession):
    user, other = factory.user(), factory.user()
    [mine] = post(app, user)
    [theirs] = post(app, other)
    browser = signed_in(user)
    token = csrf_token(browser, "/notifications")
    browser.post(f"/notifications/{mine}/read", status=400)  # no CSRF token: refused
    browser.post(f"/notifications/{theirs}/read", {"csrf_token": token}, status=404)
    browser.post("/notifications/999999/read", {"csrf_token": token}, status=404)
    dbsession.expire_all()
    assert [n.read_at for n in dbsession.scalars(select(Notification))] == [None, None]
    browser.post(f"/notifications/{mine}/read", {"csrf_token": token}, status=303)
    browser.post(f"/notifications/{mine}/read", {"csrf_token": token}, status=303)  # again: fine
    dbsession.expire_all()
    assert dbsession.get(Notification, mine).read_at is not None
    assert dbsession.get(Notification, theirs).read_at is None
    assert bell(browser.get("/notifications")).find(class_="count") is None


def test_mark_all_read_marks_only_ones_own(app, factory, signed_in, dbsession):
    user, other = factory.user(), factory.user()
    post(app, user, 2)
    post(app, other)
    browser = signed_in(user)
    browser.post("/notifications/read", {"csrf_token": csrf_token(browser, "/notifications")},
                 status=303)
    dbsession.expire_all()
    unread = dbsession.scalars(select(Notification.user_id).where(
        Notification.read_at.is_(None))).all()
    assert unread == [other.id]
    assert not browser.get("/notifications").html.select("ul.notifications li.unread")


def test_a_person_chooses_per_kind_what_comes_by_e_mail(app, factory, signed_in, dbsession):
    user = factory.user(locale="en")
    browser = signed_in(user)
    page = browser.get("/account")
    assert page.html.find("a", href="/account/notifications")
    form = browser.get("/account/notifications").forms["notification-settings"]
    core_kinds = {"sso", "trial", "whats_new"}  # plugins installed beside may add theirs
    boxes = {field.id: field.checked for field in form.fields["email"]
             if field.id.removeprefix("email-") in core_kinds}
    assert boxes == {"email-sso": True, "email-trial": True, "email-whats_new": False}
    browser.post("/account/notifications", [
        ("csrf_token", form["csrf_token"].value), ("email", "whats_new"),
        ("email", "not-a-kind")], status=303)
    dbsession.expire_all()
    chosen = dict(dbsession.execute(select(NotificationPreference.kind,
                                           NotificationPreference.email)).all())
    assert {kind: chosen[kind] for kind in core_kinds} == {
        "sso": False, "trial": False, "whats_new": True}
    assert "not-a-kind" not in chosen
