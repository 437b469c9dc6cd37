"""The load run of bench/ in a few seconds: PostgreSQL, gunicorn and two job workers, one of
each killed, and every check passing."""
import pytest

from bench import load

pytestmark = pytest.mark.postgresql


def test_a_short_load_run_passes_every_check(monkeypatch):
    monkeypatch.setenv("BENCH_LOAD_SECONDS", "6")
    monkeypatch.setenv("BENCH_LOAD_CLIENTS", "2")
    counts = load.run()
    assert counts["checks"] == {name: True for name in counts["checks"]}
    assert counts["changes_seen_succeed"] > 0 and counts["answers_5xx"] == 0
    assert counts["killed"]["web_worker"]["pid"] != counts["killed"]["job_worker"]["pid"]
