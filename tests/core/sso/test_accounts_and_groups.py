"""Which account a Single Sign On identity signs in to (linking, just-in-time accounts) and
the groups it brings, through a real OpenID Connect provider and the real callback."""
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from mypages.accounts.models import User, UserSession
from mypages.companies.models import Group, GroupMember, Membership, Role
from mypages.sso.models import SsoLink

from enterprise_support import (act, add_verified_domain, audit_actions, audit_events,  # noqa: F401
                                browser, connect, connection, fake_idp, messages, oidc_idp,
                                add_person, refusal, sign_in_with_password, sso_sign_in, tab_path)


@pytest.fixture
def sso(app, factory, dbsession, fake_idp, oidc_idp):
    """Example AB on the Single Sign On trial, connected to the provider, example.se verified."""
    from enterprise_support import set_module

    company = factory.company("Example AB")
    admin = factory.user("admin@example.se", company=company, role="admin")
    set_module(dbsession, company)
    connect(app, dbsession, company, oidc_idp)
    add_verified_domain(dbsession, company, "example.se")
    return SimpleNamespace(company=company, admin=admin, idp=oidc_idp)


def count(dbsession, model, *where):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model).where(*where))


def user_by_email(dbsession, email):
    dbsession.expire_all()
    return dbsession.scalars(select(User).where(User.email == email)).one_or_none()


def links(dbsession):
    dbsession.expire_all()
    return dbsession.execute(select(SsoLink.subject, SsoLink.user_id).order_by(SsoLink.id)).all()


def signed_in_as(testapp, dbsession, company) -> int | None:
    """The user whose session the browser holds, if it opens the company's pages."""
    page = testapp.get(f"/c/{company.id}/", status="*")
    if page.status_int != 200:
        return None
    dbsession.expire_all()
    return dbsession.scalars(select(UserSession.user_id).where(UserSession.ended_at.is_(None))
                             .order_by(UserSession.created_at.desc())).first()


def assert_refused(page, reason, dbsession, sessions_before=0):
    assert page.status_int == 403
    assert refusal(page) == f"sso-{reason}"
    assert count(dbsession, UserSession) == sessions_before  # no session created
    [rejected] = audit_events(dbsession, "sso.rejected")[-1:]
    assert rejected.details["reason"] == reason


def admin_browser(app, sso, factory):
    testapp = browser(app)
    sign_in_with_password(testapp, sso.admin.email, factory.password)
    return testapp


# -- just-in-time accounts ------------------------------------------------------------------

def test_an_unknown_person_is_refused_while_jit_is_off_which_it_is_by_default(
        app, sso, factory, dbsession):
    admin = admin_browser(app, sso, factory)
    assert connection(dbsession, sso.company).jit_enabled is False
    assert admin.get(tab_path(sso.company)).html.find(id="sso-jit").find("button").text == "Turn on"
    add_person(sso.idp, "new", "new@example.se")
    page = sso_sign_in(browser(app), sso.idp, "new", "new@example.se")
    assert_refused(page, "no-account", dbsession, sessions_before=1)  # the admin's
    assert "There is no account for you at this company." in page.text
    assert user_by_email(dbsession, "new@example.se") is None and links(dbsession) == []


def test_with_jit_on_a_vouched_person_at_a_verified_domain_gets_an_account(
        app, sso, factory, dbsession):
    act(admin_browser(app, sso, factory), sso.company, "jit", on="1")
    assert connection(dbsession, sso.company).jit_enabled is True
    add_person(sso.idp, "new", "new@example.se", name="Nya Person")
    testapp = browser(app)
    done = sso_sign_in(testapp, sso.idp, "new", status=303)
    assert done.location == f"http://localhost/c/{sso.company.id}/"
    user = user_by_email(dbsession, "new@example.se")
    assert user.password_hash is None and user.display_name == "Nya Person"
    assert dbsession.scalars(select(Membership.role).where(
        Membership.user_id == user.id, Membership.company_id == sso.company.id)).one() == Role.member
    assert [user_id for _subject, user_id in links(dbsession)] == [user.id]
    assert signed_in_as(testapp, dbsession, sso.company) == user.id
    assert audit_actions(dbsession, sso.company, "sso.") == [
        "sso.jit_switched", "sso.started", "sso.user_provisioned", "sso.member_provisioned"]


@pytest.mark.parametrize("email, verified", [
    ("new@example.se", False),      # the provider does not vouch for the address
    ("new@elsewhere.se", True),     # a domain the company never verified
    ("new@pending.se", True),       # claimed, not verified
    ("new@theirs.se", True),        # verified, by another company
    (None, True),                   # no address at all
])
def test_jit_is_only_for_vouched_addresses_at_the_companys_verified_domains(
        app, sso, factory, dbsession, email, verified):
    add_verified_domain(dbsession, sso.company, "pending.se", verified=False)
    add_verified_domain(dbsession, factory.company("Theirs AB"), "theirs.se")
    connection_row = connection(dbsession, sso.company)
    connection_row.jit_enabled = True
    dbsession.commit()
    add_person(sso.idp, "new", email, verified=verified)
    page = sso_sign_in(browser(app), sso.idp, "new", "someone@example.se")
    assert_refused(page, "no-account", dbsession)
    assert count(dbsession, User) == 1  # the admin only
    assert links(dbsession) == []


# -- linking to existing accounts --------------------------------------------------------------

def test_an_existing_account_is_linked_when_vouched_and_verified(app, sso, factory, dbsession):
    anna = factory.user("anna@example.se", company=sso.company)
    add_person(sso.idp, "anna", "Anna@Example.se")
    testapp = browser(app)
    sso_sign_in(testapp, sso.idp, "anna", "anna@example.se", status=303)
    assert signed_in_as(testapp, dbsession, sso.company) == anna.id
    [(subject, user_id)] = links(dbsession)
    assert user_id == anna.id and "@" not in subject
    [linked] = audit_events(dbsession, "sso.account_linked")
    assert (linked.actor_id, linked.target) == (anna.id, "anna@example.se")


@pytest.mark.parametrize("email, verified", [
    ("anna@example.se", False),   # same address, not vouched for by the provider
    ("anna@partner.se", True),    # vouched, but the company never verified partner.se
])
def test_an_existing_account_is_not_taken_over_without_proof(app, sso, factory, dbsession,
                                                             email, verified):
    anna = factory.user(email, company=sso.company)
    add_person(sso.idp, "impostor", email, verified=verified)
    page = sso_sign_in(browser(app), sso.idp, "impostor", "anna@example.se")
    assert_refused(page, "link-unverified", dbsession)
    assert "the e-mail address is not verified for this company" in page.text
    assert links(dbsession) == []
    # and it stays so: the next attempt is refused the same way
    page = sso_sign_in(browser(app), sso.idp, "impostor", "anna@example.se")
    assert_refused(page, "link-unverified", dbsession)
    assert anna.id not in {user_id for _s, user_id in links(dbsession)}


def test_a_linked_person_signs_in_by_subject_even_when_the_address_changes(app, sso, factory,
                                                                          dbsession):
    anna = factory.user("anna@example.se", company=sso.company)
    bob = factory.user("bob@example.se", company=sso.company)
    add_person(sso.idp, "anna", "anna@example.se")
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    # at the provider the person now has bob's address (and it is not even vouched for)
    sso.idp.users["anna"].update(email="bob@example.se", email_verified=False)
    testapp = browser(app)
    sso_sign_in(testapp, sso.idp, "anna", "anna@example.se", status=303)
    assert signed_in_as(testapp, dbsession, sso.company) == anna.id != bob.id
    assert len(links(dbsession)) == 1
    assert user_by_email(dbsession, "anna@example.se") is not None


def test_a_second_subject_with_a_linked_address_needs_the_same_proof(app, sso, factory,
                                                                      dbsession):
    """The "nOAuth" case: another person at the provider carries the address of a linked
    account. It never signs in as that account: unvouched it is not linked, and vouched
    it is not linked a second time."""
    anna = factory.user("anna@example.se", company=sso.company)
    add_person(sso.idp, "anna", "anna@example.se")
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    add_person(sso.idp, "mallory", "anna@example.se", verified=False)
    page = sso_sign_in(browser(app), sso.idp, "mallory", "anna@example.se")
    assert_refused(page, "link-unverified", dbsession, sessions_before=1)  # anna's own
    add_person(sso.idp, "mallory", "anna@example.se", verified=True)
    page = sso_sign_in(browser(app), sso.idp, "mallory", "anna@example.se")
    assert_refused(page, "already-linked", dbsession, sessions_before=1)
    assert [user_id for _s, user_id in links(dbsession)] == [anna.id]


def test_a_linked_but_disabled_account_is_refused(app, sso, factory, dbsession):
    anna = factory.user("anna@example.se", company=sso.company)
    add_person(sso.idp, "anna", "anna@example.se")
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    dbsession.get(User, anna.id).is_active = False
    dbsession.commit()
    dbsession.execute(UserSession.__table__.delete())
    dbsession.commit()
    page = sso_sign_in(browser(app), sso.idp, "anna")
    assert_refused(page, "account-disabled", dbsession)


def test_a_person_who_is_not_a_member_is_refused_and_not_linked(app, sso, factory, dbsession):
    factory.user("anna@example.se")  # an account, but not at Example AB
    add_person(sso.idp, "anna", "anna@example.se")
    page = sso_sign_in(browser(app), sso.idp, "anna")
    assert_refused(page, "not-a-member", dbsession)
    assert links(dbsession) == []


# -- group mapping ------------------------------------------------------------------------------

def group_names(dbsession, user, source=None):
    dbsession.expire_all()
    query = (select(Group.name).join(GroupMember, GroupMember.group_id == Group.id)
             .where(GroupMember.user_id == user.id).order_by(Group.name))
    if source is not None:
        query = query.where(GroupMember.source == source)
    return dbsession.scalars(query).all()


@pytest.fixture
def mapped(app, sso, factory, dbsession):
    """Mappings made on the tab: g-sales -> Sales, g-sales-nordic -> Sales, g-admins -> Admins."""
    admin = admin_browser(app, sso, factory)
    for idp_group, name in (("g-sales", "Sales"), ("g-sales-nordic", "Sales"),
                            ("g-admins", "Admins")):
        act(admin, sso.company, "mapping-add", idp_group=idp_group, group=name)
    anna = factory.user("anna@example.se", company=sso.company)
    add_person(sso.idp, "anna", "anna@example.se", groups=["g-sales", "g-admins", "g-unmapped"])
    return SimpleNamespace(admin=admin, anna=anna)


def test_mapped_groups_are_added_and_removed_at_every_sign_in(app, sso, mapped, dbsession):
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna, "sso") == ["Admins", "Sales"]
    # dropped from one IdP group: that group goes at the next sign-in
    sso.idp.users["anna"]["groups"] = ["g-sales"]
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna) == ["Sales"]
    # dropped from g-sales but still in g-sales-nordic: still in Sales
    sso.idp.users["anna"]["groups"] = ["g-sales-nordic"]
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna) == ["Sales"]
    # in no group at all (the provider says so): out of every mapped group
    sso.idp.users["anna"]["groups"] = []
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna) == []
    changes = [(e.details["added"], e.details["removed"])
               for e in audit_events(dbsession, "sso.groups_changed")]
    assert changes == [(["Admins", "Sales"], []), ([], ["Admins"]), ([], ["Sales"])]


def test_unknown_groups_change_nothing_and_the_admins_are_warned(app, sso, mapped, dbsession):
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    sso.idp.users["anna"]["groups"] = []
    sso.idp.misbehave(groups_overage=True)  # too many groups: the token cannot list them
    testapp = browser(app)
    sso_sign_in(testapp, sso.idp, "anna", status=303)  # signed in all the same
    assert signed_in_as(testapp, dbsession, sso.company) == mapped.anna.id
    assert group_names(dbsession, mapped.anna) == ["Admins", "Sales"]  # not "member of nothing"
    [skipped] = audit_events(dbsession, "sso.groups_skipped")
    assert (skipped.actor_id, skipped.company_id) == (mapped.anna.id, sso.company.id)
    warning = mapped.admin.get(tab_path(sso.company)).html.find(id="groups-warning")
    assert "too many groups for the token to list" in warning.text
    # the next sign-in that lists the groups applies them and clears the warning
    sso.idp.reset()
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna) == []
    assert mapped.admin.get(tab_path(sso.company)).html.find(id="groups-warning") is None


def test_manual_group_memberships_are_never_removed_by_sync(app, sso, mapped, dbsession):
    sales = dbsession.scalars(select(Group).where(Group.name == "Sales")).one()
    board = Group(company_id=sso.company.id, name="Board")  # not mapped at all
    dbsession.add(board)
    dbsession.flush()
    dbsession.add_all([GroupMember(group_id=sales.id, user_id=mapped.anna.id, source="manual"),
                       GroupMember(group_id=board.id, user_id=mapped.anna.id, source="manual")])
    dbsession.commit()
    sso.idp.users["anna"]["groups"] = ["g-admins"]  # not in g-sales: Sales was given by hand
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna, "manual") == ["Board", "Sales"]
    assert group_names(dbsession, mapped.anna, "sso") == ["Admins"]
    sso.idp.users["anna"]["groups"] = ["g-sales"]  # now also from the provider: still manual
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    sso.idp.users["anna"]["groups"] = []
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna) == ["Board", "Sales"]
    assert group_names(dbsession, mapped.anna, "manual") == ["Board", "Sales"]


def test_removing_a_mapping_on_the_tab(app, sso, mapped, dbsession):
    page = mapped.admin.get(tab_path(sso.company))
    assert [code.text for code in page.html.find(id="sso-groups").find_all("code")] == [
        "g-admins", "g-sales", "g-sales-nordic"]
    mapping_ids = [i["value"] for i in page.html.find(id="sso-groups").find_all(
        "input", attrs={"name": "mapping_id"})]
    act(mapped.admin, sso.company, "mapping-remove", mapping_id=mapping_ids[0])
    assert audit_actions(dbsession, sso.company, "sso.group_mapping") == [
        "sso.group_mapping_added"] * 3 + ["sso.group_mapping_removed"]
    sso_sign_in(browser(app), sso.idp, "anna", status=303)
    assert group_names(dbsession, mapped.anna) == ["Sales"]  # g-admins no longer maps
    page = act(mapped.admin, sso.company, "mapping-remove", status=400, mapping_id=mapping_ids[0])
    assert "There is no such group mapping." in messages(page)
