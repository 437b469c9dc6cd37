"""Encrypted columns and their blind indexes: written encrypted, read back as text, found by a
keyed hash, re-encrypted and re-indexed by ``mypages keys rotate``."""
from __future__ import annotations

import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Integer, String, select, text
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from mypages.crypto import DecryptionFailed
from mypages.settings import DEVELOPMENT_BLIND_INDEX_KEY, DEVELOPMENT_KEY
from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import build_app
from mypages.toolkit import Base, BlindIndex, EncryptedText, blind_index, blind_index_lookup

PHONE = "+46 70-123 45 67"
NOTE = "Hemlig anteckning om kunden"


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


class Contact(Base):
    """A plugin's model with an encrypted, searchable phone number and an encrypted note."""

    __tablename__ = "test_crypto_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(EncryptedText())
    phone_index: Mapped[str | None] = mapped_column(BlindIndex("phone", normalize=digits),
                                                    index=True)
    note: Mapped[str | None] = mapped_column(EncryptedText())


# the tests make the table themselves; the other tests' clean-up must not look for it
Base.metadata.remove(Contact.__table__)


@pytest.fixture
def contacts(app):
    engine = app.registry["db.engine"]
    Contact.__table__.create(engine)
    yield Contact
    Contact.__table__.drop(engine)


def session_of(app):
    return sessionmaker(bind=app.registry["db.engine"], expire_on_commit=False)()


@contextmanager
def app_with_keys(mypages_settings, encryption_keys, blind_index_keys):
    other = build_app(dict(mypages_settings, **{
        "mypages.encryption_keys": ",".join(encryption_keys),
        "mypages.blind_index_key": ",".join(blind_index_keys)}), migrate=False)
    try:
        yield other
    finally:
        other.registry["db.engine"].dispose()


def stored(dbsession, contact_id: int):
    """The row as the database holds it."""
    return dbsession.execute(text("SELECT name, phone, phone_index, note FROM "
                                  "test_crypto_contacts WHERE id = :id"), {"id": contact_id}).one()


def test_values_are_encrypted_at_rest_and_read_back_as_text(app, contacts, dbsession,
                                                            mypages_settings):
    dbsession.add(contacts(id=1, name="Anna", phone=PHONE, note=NOTE))
    dbsession.add(contacts(id=2, name="Bo"))
    dbsession.commit()

    name, phone, phone_index, note = stored(dbsession, 1)
    assert name == "Anna"
    assert PHONE not in phone and digits(PHONE) not in phone and NOTE not in note
    assert Fernet(DEVELOPMENT_KEY.encode()).decrypt(phone.encode()).decode() == PHONE
    assert phone_index == blind_index(app, PHONE, digits) and len(phone_index) == 64
    assert stored(dbsession, 2)[1:] == (None, None, None)
    with session_of(app) as fresh:
        anna = fresh.get(contacts, 1)
        assert (anna.phone, anna.note) == (PHONE, NOTE)
    url = mypages_settings["sqlalchemy.url"]
    if url.startswith("sqlite:///"):  # nor anywhere in the database's files
        files = Path(url.removeprefix("sqlite:///"))
        assert found_in_files(files, "Anna") and not found_in_files(files, digits(PHONE))
        assert not found_in_files(files, PHONE) and not found_in_files(files, NOTE)


def found_in_files(database: Path, value: str) -> bool:
    """Whether the SQLite database's files (with its write-ahead log) hold ``value``. Read by
    another process: closing a file of the database in this one would drop SQLite's locks."""
    read = subprocess.run([sys.executable, "-c", (
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
        "print(any(sys.argv[2].encode() in f.read_bytes() for f in p.parent.glob(p.name + '*')))"
    ), str(database), value], capture_output=True, text=True, check=True)
    return read.stdout.strip() == "True"


def test_rows_are_found_by_their_blind_index(app, contacts, dbsession):
    dbsession.add_all([contacts(id=1, name="Anna", phone=PHONE),
                       contacts(id=2, name="Bo", phone="+46 8 555 00 00")])
    dbsession.commit()

    def found(value):
        return dbsession.scalars(select(contacts.name).where(
            blind_index_lookup(app, contacts.phone_index, value))).all()

    assert found("46701234567") == ["Anna"]  # normalised: digits only
    assert found("46 (70) 123-45-67") == ["Anna"]
    assert found("+46 70 123 45 68") == []
    # a changed value gets its index again
    bo = dbsession.get(contacts, 2)
    bo.phone = "+46 70 999 99 99"
    dbsession.commit()
    assert found("46709999999") == ["Bo"] and found("+46 8 555 00 00") == []


def test_keys_rotate_re_encrypts_and_rebuilds_blind_indexes(app, contacts, dbsession,
                                                            mypages_settings, tmp_path):
    dbsession.add(contacts(id=1, name="Anna", phone=PHONE, note=NOTE))
    dbsession.commit()
    before = stored(dbsession, 1)
    new_key, new_index_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    both = ([new_key, DEVELOPMENT_KEY], [new_index_key, DEVELOPMENT_BLIND_INDEX_KEY])

    with app_with_keys(mypages_settings, *both) as rotating:
        # a new key in front: old rows are read and found all the same, before the rotation
        with session_of(rotating) as session:
            assert session.get(contacts, 1).phone == PHONE
            assert session.scalars(select(contacts.id).where(blind_index_lookup(
                rotating, contacts.phone_index, PHONE))).all() == [1]
        result = OperatorCli(app=rotating).json("keys", "rotate")

    assert {"column": "test_crypto_contacts", "re_encrypted": 1} in result
    after = stored(dbsession, 1)
    assert after.phone != before.phone and after.note != before.note
    assert after.phone_index != before.phone_index
    assert Fernet(new_key.encode()).decrypt(after.phone.encode()).decode() == PHONE
    # the old keys can go now
    with app_with_keys(mypages_settings, [new_key], [new_index_key]) as rotated:
        with session_of(rotated) as session:
            anna = session.scalars(select(contacts).where(blind_index_lookup(
                rotated, contacts.phone_index, PHONE))).one()
            assert (anna.phone, anna.note) == (PHONE, NOTE)
    # and an application with only the old key cannot read the rows any more
    with session_of(app) as session, pytest.raises(DecryptionFailed):
        session.get(contacts, 1)
