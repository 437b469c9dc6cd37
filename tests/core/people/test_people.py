"""People management for company admins: list, change role, remove, sign out everywhere.
The last admin always stays, also when two admins demote each other at the same moment."""
import threading

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from mypages.accounts.models import TotpCredential, UserSession
from mypages.audit.models import AuditEvent
from mypages.people import members as people
from mypages.companies.models import Membership, Role
from mypages.db import utcnow
from mypages.i18n import _
from mypages.notifications import localizer_for
from mypages.testing.plugin import sign_in, work_as


def browser(app, address="10.0.0.1"):
    return TestApp(app, extra_environ={"REMOTE_ADDR": address, "HTTP_HOST": "localhost"})


def people_path(company):
    return f"/c/{company.id}/settings/people"


def person_form(page, user, action):
    suffix = f"/settings/people/{user.id}/{action}"
    return next(form for form in page.forms.values() if form.action.endswith(suffix))


def act(client, company, user, action, status=303, **fields):
    form = person_form(client.get(people_path(company)), user, action)
    for name, value in fields.items():
        form[name] = value
    return form.submit(status=status)


def role_of(dbsession, company, user):
    dbsession.expire_all()
    return dbsession.scalar(select(Membership.role).where(
        Membership.company_id == company.id, Membership.user_id == user.id))


def active_sessions(dbsession, user):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))


def actions(dbsession):
    return dbsession.scalars(select(AuditEvent.action)).all()


def english(app, message):
    return localizer_for(app.registry, "en").translate(message)


@pytest.fixture
def team(app, factory):
    """A company with one admin (signed in, English) and one member (signed in too)."""
    company = factory.company()
    admin = factory.user(company=company, role="admin", locale="en")
    member = factory.user(company=company, locale="en")
    admin_browser, member_browser = browser(app, "10.0.0.1"), browser(app, "10.0.0.2")
    sign_in(admin_browser, admin.email)
    sign_in(member_browser, member.email)
    return company, admin, member, admin_browser, member_browser


def test_the_list_shows_role_two_factor_and_last_sign_in(app, factory, dbsession, team):
    company, admin, member, admin_browser, _member_browser = team
    dbsession.add(TotpCredential(user_id=member.id, secret_encrypted="x", confirmed_at=utcnow()))
    newcomer = factory.user(company=company, display_name="Nils Nykomling")
    outsider = factory.user(company=factory.company())
    page = admin_browser.get(people_path(company))
    rows = {row["data-email"]: row
            for row in page.html.find(id="members").find_all("tr", attrs={"data-email": True})}
    assert set(rows) == {admin.email, member.email, newcomer.email}
    assert outsider.email not in page.text

    def cells(email):
        return rows[email].find_all("td")

    def role(email):
        return cells(email)[1].find("option", selected=True)["value"]

    assert role(admin.email) == "admin" and role(member.email) == "member"
    app_name, off, never = (english(app, _(text))
                            for text in ("Authenticator app (TOTP)", "Off", "Never"))
    # the names of the second factors the member has, not a bare "On"
    assert cells(member.email)[2].text.strip() == app_name
    assert cells(admin.email)[2].text.strip() == off
    assert cells(newcomer.email)[3].text.strip() == never
    assert cells(admin.email)[3].text.strip() not in ("", never)  # a date and time
    assert "Nils Nykomling" in cells(newcomer.email)[0].text


def test_changing_a_role_ends_that_persons_sessions(app, dbsession, team):
    company, admin, member, admin_browser, member_browser = team
    act(admin_browser, company, member, "role", role="admin")
    assert role_of(dbsession, company, member) == Role.admin
    # signed in with the old privilege: that session is over
    assert "/login" in member_browser.get(f"/c/{company.id}/", status=303).location
    admin_browser.get(people_path(company), status=200)
    sign_in(member_browser, member.email)
    member_browser.get(people_path(company), status=200)  # now an admin
    act(admin_browser, company, member, "role", role="member")
    assert role_of(dbsession, company, member) == Role.member
    member_browser.get(f"/c/{company.id}/", status=303)
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "people.role_changed").order_by(AuditEvent.id)).first()
    assert (event.actor_id, event.company_id) == (admin.id, company.id)
    assert event.target == str(member.id)
    assert event.details == {"old_role": "member", "new_role": "admin"}


def test_an_admin_who_changes_their_own_role_keeps_their_session(app, factory, dbsession, team):
    company, admin, member, admin_browser, _member_browser = team
    act(admin_browser, company, member, "role", role="admin")
    act(admin_browser, company, admin, "role", role="member")
    assert role_of(dbsession, company, admin) == Role.member
    admin_browser.get(f"/c/{company.id}/", status=200)
    admin_browser.get(people_path(company), status=403)


def test_removing_a_person_signs_them_out_at_once(app, dbsession, team):
    company, admin, member, admin_browser, member_browser = team
    member_browser.get(f"/c/{company.id}/", status=200)
    act(admin_browser, company, member, "remove")
    assert role_of(dbsession, company, member) is None
    assert active_sessions(dbsession, member) == 0
    assert "/login" in member_browser.get(f"/c/{company.id}/", status=303).location
    # and signing in again does not bring the company back: to a non-member it is not there
    sign_in(member_browser, member.email)
    member_browser.get(f"/c/{company.id}/", status=404)
    assert member.email not in admin_browser.get(people_path(company)).html.find(id="members").text
    assert "people.removed" in actions(dbsession)


def test_sign_out_everywhere_ends_every_session_of_the_member(app, dbsession, team):
    company, admin, member, admin_browser, member_browser = team
    phone = browser(app, "10.0.0.3")
    sign_in(phone, member.email)
    assert active_sessions(dbsession, member) == 2
    act(admin_browser, company, member, "end-sessions")
    assert active_sessions(dbsession, member) == 0
    for client in (member_browser, phone):
        client.get(f"/c/{company.id}/", status=303)
    assert role_of(dbsession, company, member) == Role.member  # still a member
    admin_browser.get(people_path(company), status=200)
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "people.sessions_ended")).one()
    assert event.details["sessions_ended"] == 2


def test_the_last_admin_cannot_be_demoted_or_removed(app, dbsession, team):
    company, admin, member, admin_browser, _member_browser = team
    refused = act(admin_browser, company, admin, "role", role="member", status=400)
    assert refused.html.find(class_="error").text.strip() == english(app, _(
        "The last admin of a company cannot be made a member. Make someone else admin first."))
    refused = act(admin_browser, company, admin, "remove", status=400)
    assert refused.html.find(class_="error").text.strip() == english(
        app, _("The last admin of a company cannot be removed."))
    assert role_of(dbsession, company, admin) == Role.admin
    admin_browser.get(people_path(company), status=200)
    assert "people.role_changed" not in actions(dbsession)
    assert "people.removed" not in actions(dbsession)


def test_of_two_admins_one_can_go_but_not_both(app, dbsession, team):
    company, admin, member, admin_browser, member_browser = team
    act(admin_browser, company, member, "role", role="admin")
    sign_in(member_browser, member.email)
    act(member_browser, company, admin, "remove")
    assert role_of(dbsession, company, admin) is None
    act(member_browser, company, member, "role", role="member", status=400)
    act(member_browser, company, member, "remove", status=400)
    assert role_of(dbsession, company, member) == Role.admin


def test_members_cannot_manage_people(app, dbsession, team):
    company, admin, member, _admin_browser, member_browser = team
    member_browser.get(people_path(company), status=403)
    token = member_browser.get("/account").forms[0]["csrf_token"].value
    for action, fields in (("role", {"role": "admin"}), ("remove", {}), ("end-sessions", {})):
        member_browser.post(f"/c/{company.id}/settings/people/{admin.id}/{action}",
                            dict(fields, csrf_token=token), status=403)
    member_browser.post(f"/c/{company.id}/settings/people/{member.id}/role",
                        {"role": "admin", "csrf_token": token}, status=403)
    assert role_of(dbsession, company, member) == Role.member
    assert active_sessions(dbsession, admin) == 1


def test_an_admin_cannot_reach_people_of_another_company(app, factory, dbsession, team):
    company, admin, _member, admin_browser, _member_browser = team
    other = factory.company()
    stranger = factory.user(company=other, role="admin")
    stranger_browser = browser(app, "10.0.0.9")
    sign_in(stranger_browser, stranger.email)
    token = admin_browser.get(people_path(company)).forms[0]["csrf_token"].value
    # through the other company's address: not a member there, so no such page
    admin_browser.post(f"/c/{other.id}/settings/people/{stranger.id}/remove",
                       {"csrf_token": token}, status=404)
    # through their own company's address: not a member here
    refused = admin_browser.post(f"/c/{company.id}/settings/people/{stranger.id}/end-sessions",
                                 {"csrf_token": token}, status=400)
    assert refused.html.find(class_="error").text.strip() == english(
        app, _("That person is not a member of this company."))
    assert role_of(dbsession, other, stranger) == Role.admin
    stranger_browser.get(f"/c/{other.id}/", status=200)


def test_unknown_roles_and_actions_are_refused(app, dbsession, team):
    company, admin, member, admin_browser, _member_browser = team
    token = admin_browser.get(people_path(company)).forms[0]["csrf_token"].value
    admin_browser.post(f"/c/{company.id}/settings/people/{member.id}/role",
                       {"role": "owner", "csrf_token": token}, status=400)
    admin_browser.post(f"/c/{company.id}/settings/people/{member.id}/promote",
                       {"csrf_token": token}, status=400)
    assert role_of(dbsession, company, member) == Role.member


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, factory, dbsession,
                                                               monkeypatch):
    company = factory.company()
    first = factory.user(company=company, role="admin")
    second = factory.user(company=company, role="admin")
    both_have_counted = threading.Barrier(2, timeout=3)
    original = people._membership

    def count_then_wait(*args, **kw):
        found = original(*args, **kw)
        try:
            # both would demote at the same moment; with the admins locked the second one
            # waits for the first to commit and never gets here in time
            both_have_counted.wait()
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(people, "_membership", count_then_wait)
    outcomes = []

    def demote(admin, other):
        try:
            with work_as(app, admin, company) as (work, info):
                people.change_role(work, info, other.id, "member")
            outcomes.append("demoted")
        except people.PeopleError as refused:
            outcomes.append(str(refused.message))

    threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second),
                                                                        (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    admins = dbsession.scalar(select(func.count()).select_from(Membership).where(
        Membership.company_id == company.id, Membership.role == Role.admin))
    assert admins == 1
    assert sorted(outcomes) == ["The last admin of a company cannot be made a member. "
                                "Make someone else admin first.", "demoted"]


def test_removing_asks_first_in_a_dialog_or_without_javascript_on_a_page(dbsession, team):
    company, admin, member, admin_browser, _member_browser = team
    page = admin_browser.get(people_path(company)).html
    dialog = page.find("dialog", id=f"remove-{member.id}")
    assert "loses access" in dialog.find(id=f"remove-{member.id}-text").text
    assert dialog.find("form")["action"].endswith(f"/settings/people/{member.id}/remove")
    link = page.find("a", attrs={"data-confirm": f"remove-{member.id}"})["href"]
    asked = admin_browser.get(link).html
    assert f"Remove {member.name} from" in asked.find("h1").text
    assert "loses access" in asked.find(id="confirmation").text
    assert role_of(dbsession, company, member) == Role.member  # asking changes nothing
    done = act(admin_browser, company, member, "remove").follow()
    assert (f"{member.name} has been removed from {company.name} and signed out everywhere."
            in done.html.find(class_="notice").text)
    # a person who is not a member: nothing to ask about
    admin_browser.get(link, status=400)
