"""The engine of a database URL."""
from __future__ import annotations

from sqlalchemy import text

from mypages.db import engine_from_url


def test_a_sqlite_file_in_a_folder_not_made_yet_is_made_with_its_folder(tmp_path):
    """``sqlite:///%(here)s/var/mypages.sqlite`` of a fresh checkout, before ``var/`` exists."""
    engine = engine_from_url(f"sqlite:///{tmp_path}/var/data/mypages.sqlite")
    try:
        with engine.begin() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "var" / "data" / "mypages.sqlite").is_file()


def test_an_in_memory_sqlite_database_makes_no_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = engine_from_url("sqlite://")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert list(tmp_path.iterdir()) == []
