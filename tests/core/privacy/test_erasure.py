"""Erasing a company for good: a company that used every plugin of this repository is
erased, then every column of every table and every stored blob is searched for what it
was (its name and number, its people's addresses and names, a personal number, the text of
its documents): none is left but the record that it was erased, the other company is
untouched, and every audit chain still verifies."""
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from limits import parse as parse_limit
from sqlalchemy import MetaData, create_engine, select, text

from mypages.accounts.models import LoginThrottle, User
from mypages.api.models import ApiToken, RateLimitCounter
from mypages.audit import chain as audit_chain
from mypages.audit.models import AuditEvent
from mypages.companies.models import Company, Group, GroupMember, Invitation, Membership, Role
from mypages.governance.models import SecurityAlert
from mypages.inbox.models import Notification
from mypages.jobs.models import QueuedJob
from mypages.modules.models import ModuleActivation, ModuleSettings, ModuleState, Order
from mypages.privacy.erasure import erase_company
from mypages.privacy.export import request_export
from mypages.privacy.models import CompanyErasure, DataExport
from mypages.services import settings_of
from mypages.sso.models import SsoConnection, SsoGroupMapping, SsoLink, VerifiedDomain
from mypages.storage import blob_store
from mypages.testing.factories import make_api_token
from mypages.testing.plugin import work_as
from mypages.toolkit import blind_index_lookup

from mypages_bankid.models import Identity, Order as BankIdOrder
from mypages_example_notes.models import Note
from mypages_ocr.models import Document, Field, Page
from mypages_rates.models import Alert, CompanyKey, Follow, Notice, Series

NAME = "Quokkaville Trading AB"
ORG_NUMBER = "559012-3457"
PERSONAL_NUMBER = "198112189876"
GONE = [NAME, ORG_NUMBER, "quentin@quokkaville.example", "Quentin Quokkason",
        "ulrika@quokkaville.example", "Ulrika Umbrasdottir", "invitee@quokkaville.example",
        "quokkaville.example", "zebrafinch clause", "zebrafinch-4711", "quokka note text",
        "quokka-tenant-id", "quokka-subject", "Quokka staff", "Quokka integration",
        "SE559012345701", "Quokkagatan 7", PERSONAL_NUMBER]
KEPT = ["Wombat Works AB", "wendy@wombat.example", "wombat note text", "shared@both.example"]
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)


def populate(app, dbsession, name, org, domain, prefix, people, note, document_text):
    company = Company(name=name, org_number=org, street_address=f"{prefix.title()}gatan 7",
                      vat_number="SE" + org.replace("-", "") + "01",
                      invoice_email=f"invoices@{domain}")
    dbsession.add(company)
    dbsession.flush()
    users = []
    for email, display, role in people:
        user = dbsession.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, display_name=display, password_hash="x")
            dbsession.add(user)
            dbsession.flush()
        dbsession.add(Membership(company_id=company.id, user_id=user.id, role=Role(role)))
        users.append(user)
    admin, member = users[0], users[1]
    dbsession.add_all([
        Invitation(company_id=company.id, email=f"invitee@{domain}", invited_by_id=admin.id),
        ModuleActivation(company_id=company.id, module_key="notes", state=ModuleState.active),
        ModuleSettings(company_id=company.id, module_key="sso", values={"hint": name}),
        Order(company_id=company.id, module_key="notes", ordered_by_id=admin.id,
              price="49 SEK"),
        Note(company_id=company.id, author_id=member.id, text=note),
        VerifiedDomain(company_id=company.id, domain=domain, token=f"{prefix}-token",
                       verified_at=NOW),
    ])
    group = Group(company_id=company.id, name=f"{prefix.title()} staff")
    connection = SsoConnection(company_id=company.id, provider="azure", protocol="oidc",
                               settings={"tenant": f"{prefix}-tenant-id"})
    dbsession.add_all([group, connection])
    dbsession.flush()
    dbsession.add_all([
        GroupMember(group_id=group.id, user_id=member.id, source="sso"),
        SsoLink(connection_id=connection.id, subject=f"{prefix}-subject", user_id=member.id),
        SsoGroupMapping(connection_id=connection.id, idp_group=f"{prefix}-group",
                        group_id=group.id),
    ])
    token, _secret = make_api_token(dbsession, company, ["notes:read"], created_by=admin,
                                    name=f"{prefix.title()} integration")
    # rates: a followed series, the company's own key, a member's alert and its notice
    series = dbsession.scalar(select(Series).where(Series.code == "SEKEURPMI"))
    if series is None:
        series = Series(source="riksbank", code="SEKEURPMI")
        dbsession.add(series)
        dbsession.flush()
    dbsession.add_all([
        Follow(company_id=company.id, series_id=series.id),
        CompanyKey(company_id=company.id, source="fixer", key=f"{prefix}-fixer-key"),
        Alert(company_id=company.id, user_id=member.id, series_id=series.id, kind="above",
              threshold=11),
        Notice(company_id=company.id, user_id=member.id, series_id=series.id,
               alert_kind="above", day=NOW.date(), value=12),
    ])
    # OCR: a document, the text read on its page, a key field, the original and page image
    document = Document(company_id=company.id, uploaded_by=member.id,
                        filename=f"{prefix}-contract.pdf", content_type="application/pdf",
                        size=10, page_count=1, status="done")
    dbsession.add(document)
    dbsession.flush()
    dbsession.add_all([
        Page(document_id=document.id, company_id=company.id, number=1, width=10, height=10,
             text=document_text, lines=[{"text": document_text}]),
        Field(document_id=document.id, company_id=company.id, name="counterparty",
              value=f"{document_text.split()[0]}-4711"),
    ])
    # sign-in throttles, queued jobs, and a notification that name them
    dbsession.add_all([
        LoginThrottle(key=f"sign_in:account:{member.email}", failures=3),
        # the API's counter of the token's requests, keyed as mypages.api.ratelimit keys it
        RateLimitCounter(key=parse_limit("600/minute").key_for(str(token.id)), count=5,
                         expires_at=NOW.timestamp() + 60),
        QueuedJob(name="people.mail_invitation", payload={"email": f"invitee@{domain}"}),
        QueuedJob(name="notes.digest", payload={"company_id": company.id}),
    ])
    dbsession.commit()
    store = blob_store(app, company)
    store.put(document.blob_key, f"%PDF {document_text}".encode(), "application/pdf")
    store.put(f"documents/{document.id}/page-1.png", b"\x89PNG" + document_text.encode(),
              "image/png")
    return company, users


@pytest.fixture
def two_companies(app, dbsession, modules):
    gone, gone_people = populate(
        app, dbsession, NAME, ORG_NUMBER, "quokkaville.example", "quokka",
        [("quentin@quokkaville.example", "Quentin Quokkason", "admin"),
         ("ulrika@quokkaville.example", "Ulrika Umbrasdottir", "member"),
         ("shared@both.example", "Shared Person", "member")],
        "quokka note text", "zebrafinch clause of the lease")
    kept, kept_people = populate(
        app, dbsession, "Wombat Works AB", "556036-0793", "wombat.example", "wombat",
        [("wendy@wombat.example", "Wendy Wombat", "admin"),
         ("william@wombat.example", "William Wombat", "member"),
         ("shared@both.example", "Shared Person", "member")],
        "wombat note text", "wombatish clause of the lease")
    # BankID: Ulrika's personal number, entered by her company's admin
    dbsession.add(Identity(user_id=gone_people[1].id, personal_number=PERSONAL_NUMBER,
                           registered_by_company_id=gone.id))
    dbsession.add(BankIdOrder(id="order-1", purpose="sign_in", device="other",
                              user_id=gone_people[1].id, browser="b" * 64))
    # what others' records say of them: another company's trail, a notification
    dbsession.add(Notification(user_id=kept_people[0].id, company_id=kept.id, kind="whats_new",
                               title={"text": f"{NAME} was mentioned"}, body={"text": "x"}))
    # an alert the watch raised about one of their admins
    dbsession.add(SecurityAlert(rule="new_admin", chain_id=gone.id, company_id=gone.id,
                                company_label=NAME, event_id=1, event_seq=1,
                                action="people.role_changed", subject=gone_people[0].email,
                                happened_at=NOW, raised_at=NOW,
                                text={"text": f"{gone_people[0].display_name} is an admin"}))
    dbsession.commit()
    with work_as(app, user=gone_people[0], company=gone) as (work, info):
        work.audit("people.invited", company=info, target="invitee@quokkaville.example")
        work.audit("account.signed_in")  # a member event: to the company's trail
    with work_as(app, user=kept_people[0], company=kept) as (work, info):
        work.audit("policy.changed", company=info)
        work.audit("people.invited", company=info, target="quentin@quokkaville.example",
                   note=f"met at {NAME}")
        work.audit("policy.changed", company=info)
    with work_as(app) as (work, _info):
        work.audit("platform.note", target=NAME, org_number=ORG_NUMBER)
        work.audit("platform.other", target="nothing of theirs")
    modules.activate(gone, "ocr")
    return gone, kept, gone_people


def _scan_tables(engine) -> list[str]:
    """Every value of every table (all columns, as text) that holds one of GONE: where."""
    found = []
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                allowed_number = (table.name == "company_erasures" or (
                    table.name == "audit_events" and row["action"] == "company.erased"))
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    value = value if isinstance(value, str) else json.dumps(value, default=str)
                    for needle in GONE:
                        if needle == ORG_NUMBER and allowed_number:
                            continue
                        forms = {needle.lower(), json.dumps(needle)[1:-1].lower()}
                        if any(form in value.lower() for form in forms):
                            found.append(f"{table.name}.{column}: {needle}")
    return found


def _scan_storage(app) -> list[str]:
    root = Path(settings_of(app).storage.directory)
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("latin-1").lower()
            found += [f"{path}: {needle}" for needle in GONE if needle.lower() in content]
    return found


def test_a_fully_used_company_is_erased_leaving_nothing_of_it_but_its_record(
        app, two_companies, mypages_cli, dbsession, mypages_database_url):
    gone, kept, gone_people = two_companies
    engine = app.registry["db.engine"]
    assert len(_scan_tables(engine)) > 25  # the scan finds what is there
    assert _scan_storage(app)

    mypages_cli("companies", "erase", str(gone.id), "--confirm", ORG_NUMBER)

    assert _scan_tables(engine) == []
    assert _scan_storage(app) == []
    assert list(blob_store(app, gone).list()) == []
    with app.registry["db.session_factory"]() as session:
        assert session.scalars(select(Identity).where(blind_index_lookup(
            app.registry, Identity.personal_number_index, PERSONAL_NUMBER))).all() == []
        record = session.scalar(select(CompanyErasure))
        assert (record.org_number, record.erased_by_id) == (ORG_NUMBER, None)
        erased = session.scalar(select(AuditEvent).where(AuditEvent.action == "company.erased"))
        assert erased.details["org_number"] == ORG_NUMBER and erased.company_id is None
        # the person who belonged to the other company too stays, a member of it only
        shared = session.scalar(select(User).where(User.email == "shared@both.example"))
        assert [m.company_id for m in session.scalars(select(Membership).where(
            Membership.user_id == shared.id))] == [kept.id]
        # the other company is untouched: its notes, documents, blobs
        assert session.scalar(select(Note.text).where(Note.company_id == kept.id)) == \
            "wombat note text"
        assert session.scalar(select(Page.text).where(Page.company_id == kept.id)) == \
            "wombatish clause of the lease"
        assert session.scalar(select(Identity).limit(1)) is None
        assert len(list(blob_store(app, kept).list())) == 2
        # its trail still names its own people, and says what was redacted
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.chain_id == kept.id).order_by(AuditEvent.seq)).all()
        assert actions[-1] == "audit.redacted"
        assert "wendy@wombat.example" in session.scalar(select(AuditEvent.actor_label).where(
            AuditEvent.chain_id == kept.id).limit(1))
        # the rate-limit counter of the erased company's token went; the other's stayed
        kept_token = session.scalar(select(ApiToken.id).where(ApiToken.company_id == kept.id))
        assert session.scalars(select(RateLimitCounter.key)).all() == [
            parse_limit("600/minute").key_for(str(kept_token))]
        checked, problems = audit_chain.verify(session)
        assert problems == [] and checked > 5
        for value in KEPT:
            assert value in json.dumps([
                *session.scalars(select(Company.name)), *session.scalars(select(User.email)),
                *session.scalars(select(Note.text))]), value
    assert "0 problems found" in mypages_cli("audit", "verify").stdout


def test_the_wrong_number_erases_nothing(app, factory, mypages_cli, dbsession):
    company = factory.company("Careful AB", org_number="556036-0793")
    factory.user("careful@careful.example", company=company, role="admin")
    result = mypages_cli("companies", "erase", str(company.id), "--confirm", "556036-0000",
                         status=2)
    assert "Type the company's number" in result.stderr
    dbsession.expire_all()
    assert dbsession.get(Company, company.id) is not None
    assert dbsession.scalar(select(CompanyErasure)) is None


def test_a_plugin_that_fails_to_erase_leaves_everything_as_it_was(
        app, factory, mypages_cli, dbsession, monkeypatch):
    company = factory.company("Halfway AB", org_number="556036-0793")
    factory.user("half@halfway.example", company=company, role="admin")
    blob_store(app, company).put("kept.txt", b"still here")
    import mypages_example_notes.data as notes_data

    def failing(context, company):
        raise RuntimeError("the disk is on fire")

    hook = app.registry["plugins.manager"].hook.mypages_company_erase
    impl = next(i for i in hook.get_hookimpls() if i.plugin_name == "notes")
    monkeypatch.setattr(impl, "function", failing)
    with pytest.raises(RuntimeError):
        mypages_cli("companies", "erase", str(company.id), "--confirm", "556036-0793")
    dbsession.expire_all()
    assert dbsession.get(Company, company.id) is not None
    assert dbsession.scalar(select(User).where(User.email == "half@halfway.example"))
    assert list(blob_store(app, company).list()) != []
    assert notes_data  # the implementation that was replaced


def test_the_export_of_a_fully_used_company_holds_every_plugins_part_and_no_secret(
        app, two_companies, run_jobs, dbsession):
    gone, _kept, gone_people = two_companies
    with work_as(app, user=gone_people[0], company=gone) as (work, info):
        export_id = request_export(work, info).id
    run_jobs()
    dbsession.expire_all()
    export = dbsession.get(DataExport, export_id)
    assert export.status == "ready" and export.steps_done == export.steps_total
    _info, data = blob_store(app, gone).get(export.blob_key)
    archive = zipfile.ZipFile(io.BytesIO(data))
    text = {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}
    assert "Quentin Quokkason" in text["core/people.csv"]
    assert "quokka note text" in text["notes/notes.json"]
    assert "zebrafinch clause" in text["ocr/pages.json"]
    assert "zebrafinch clause" in text[f"blobs/documents/{_document_id(dbsession, gone)}/original"]
    assert json.loads(text["bankid/identities.json"])[0]["personal_number"] == PERSONAL_NUMBER
    assert json.loads(text["rates/source_keys.json"]) == [
        {"source": "fixer", "key_set": True,
         "updated_at": json.loads(text["rates/source_keys.json"])[0]["updated_at"]}]
    assert "quokka-tenant-id" in text["core/sso_connection.json"]
    everything = "".join(text.values())
    # secrets stay behind: the company's own key, token hashes, domain proofs
    assert "quokka-fixer-key" not in everything and "quokka-token" not in everything
    assert "secret_hash" not in everything and "password_hash" not in everything
    # and nothing of the other company
    assert "wombat" not in everything.lower()


def _document_id(dbsession, company) -> int:
    return dbsession.scalar(select(Document.id).where(Document.company_id == company.id))


def test_a_company_erased_while_its_export_is_being_made_leaves_no_archive(
        app, factory, run_jobs, monkeypatch):
    company = factory.company("Racing AB", org_number="556036-0793")
    admin = factory.user("racer@racing.example", company=company, role="admin")
    blob_store(app, company).put("contract.pdf", b"%PDF racing")
    with work_as(app, user=admin, company=company) as (work, info):
        request_export(work, info)
    hook = app.registry["plugins.manager"].hook.mypages_company_export
    impl = next(i for i in hook.get_hookimpls() if i.plugin_name == "notes")
    exported = impl.function

    def erased_meanwhile(context, company, archive):
        exported(context=context, company=company, archive=archive)
        # an operator erases the company while the archive is being written
        with work_as(app) as (work, _info):
            erase_company(work, company.id, "556036-0793")

    monkeypatch.setattr(impl, "function", erased_meanwhile)
    monkeypatch.setattr(impl, "argnames", ("context", "company", "archive"))
    run_jobs()
    assert list(blob_store(app, company).list()) == []
    with app.registry["db.session_factory"]() as session:
        assert session.scalar(select(DataExport)) is None
        assert session.scalar(select(Company)) is None
