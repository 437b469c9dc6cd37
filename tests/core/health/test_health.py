"""/healthz, /readyz and ``mypages health``: what a load balancer and an operator read."""
from __future__ import annotations

import datetime as dt
import json
import types

import pytest
from sqlalchemy import text
from webtest import TestApp

from mypages import main
from mypages.health import CORE
from mypages.jobs.models import QueuedJob
from mypages.storage import BlobStore, root_store
from mypages.storage.local import LocalBlobStore
from mypages.storage.s3 import S3BlobStore
from mypages.testing.s3 import REGION
from mypages.toolkit import HealthCheck, hookimpl

PASSWORD = "Db-Pa55word-never-shown"


def client(app) -> TestApp:
    return TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})


@pytest.fixture(scope="module")
def unreachable_app():
    """An app whose PostgreSQL does not answer (nothing listens on port 1)."""
    app = main({}, **{"sqlalchemy.url": f"postgresql+psycopg://mypages:{PASSWORD}@127.0.0.1:1/x"
                                        "?connect_timeout=2",
                      "mypages.environment": "test"})
    yield app
    app.registry["db.engine"].dispose()


def checks(answer) -> dict:
    return {f"{check['source']}:{check['name']}": check for check in answer.json["checks"]}


def test_healthz_answers_without_the_database_or_a_session(unreachable_app):
    answer = client(unreachable_app).get("/healthz")

    assert answer.status_int == 200 and answer.text == "ok\n"
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    assert client(unreachable_app).get("/healthz?format=json").json == {"status": "ok"}


def test_readyz_is_200_when_everything_is_up(testapp):
    answer = testapp.get("/readyz", headers={"Accept": "application/json"})

    assert answer.status_int == 200
    assert answer.json["status"] == "ok" and answer.json["ready"] is True
    found = checks(answer)
    assert [found[name]["status"] for name in ("mypages:database", "mypages:migrations",
                                               "mypages:storage", "mypages:jobs")] == ["ok"] * 4
    assert found["mypages:storage"]["data"] == {"backend": "local"}
    assert found["mypages:jobs"]["data"] == {"due": 0, "oldest_due_seconds": 0}
    assert "Set-Cookie" not in answer.headers


def test_the_storage_probe_leaves_nothing_behind(testapp, app):
    testapp.get("/readyz?format=json")

    assert checks(testapp.get("/readyz?format=json"))["mypages:storage"]["status"] == "ok"
    assert list(root_store(app).list("health/")) == []


def test_readyz_is_503_when_the_database_is_down_and_shows_no_secret(unreachable_app):
    answer = client(unreachable_app).get("/readyz?format=json", status=503)

    found = checks(answer)
    assert found["mypages:database"]["status"] == "down"
    assert found["mypages:migrations"]["status"] == "down"  # not checked without it
    assert found["mypages:storage"]["status"] == "ok"
    assert PASSWORD not in answer.text and "mypages:" not in found["mypages:database"]["detail"]


def test_migrations_behind_are_down(tmp_path):
    app = main({}, **{"sqlalchemy.url": f"sqlite:///{tmp_path}/new.sqlite",
                      "mypages.environment": "test",
                      "mypages.storage.directory": str(tmp_path / "blobs")})

    answer = client(app).get("/readyz?format=json", status=503)

    migrations = checks(answer)["mypages:migrations"]
    assert migrations["status"] == "down"
    assert "mypages db upgrade" in migrations["detail"]
    assert migrations["data"]["behind"]["mypages"]["applied"] == []


def test_storage_that_cannot_be_written_is_down(testapp, replace_service, tmp_path):
    (tmp_path / "file").write_text("in the way")
    replace_service(BlobStore, LocalBlobStore(tmp_path / "file" / "blobs"))

    answer = testapp.get("/readyz?format=json", status=503)

    storage = checks(answer)["mypages:storage"]
    assert storage["status"] == "down" and "local" in storage["detail"]
    assert str(tmp_path) not in answer.text


def test_s3_storage_is_probed_over_http(testapp, replace_service, s3_server):
    bucket = s3_server.create_bucket("ready-blobs")
    replace_service(BlobStore, S3BlobStore(bucket, region=REGION,
                                           endpoint_url=s3_server.endpoint_url))
    assert checks(testapp.get("/readyz?format=json"))["mypages:storage"]["status"] == "ok"
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    replace_service(BlobStore, S3BlobStore("no-such-bucket", region=REGION,
                                           endpoint_url=s3_server.endpoint_url))
    storage = checks(testapp.get("/readyz?format=json", status=503))["mypages:storage"]
    assert storage["status"] == "down" and storage["data"] == {"backend": "s3"}


def test_a_job_backlog_older_than_the_limit_warns_but_stays_ready(testapp, dbsession):
    now = dt.datetime.now(dt.timezone.utc)
    dbsession.add_all([QueuedJob(name="mail", payload={}, run_after=now - dt.timedelta(hours=1)),
                       QueuedJob(name="mail", payload={}, run_after=now - dt.timedelta(minutes=1)),
                       QueuedJob(name="mail", payload={}, run_after=now + dt.timedelta(hours=1)),
                       QueuedJob(name="mail", payload={}, run_after=now - dt.timedelta(hours=2),
                                 finished_at=now)])
    dbsession.commit()

    answer = testapp.get("/readyz?format=json")

    jobs = checks(answer)["mypages:jobs"]
    assert answer.json["status"] == "warn" and answer.json["ready"] is True
    assert jobs["status"] == "warn"
    assert jobs["data"]["due"] == 2
    assert 3590 <= jobs["data"]["oldest_due_seconds"] <= 3700
    assert "job workers" in jobs["detail"]


class Certificates:
    @hookimpl
    def mypages_health_checks(self, now):
        return [HealthCheck("certificate", HealthCheck.WARN, "12 days left",
                            {"days_left": 12, "checked": now.isoformat()})]


class Broken:
    @hookimpl
    def mypages_health_checks(self, registry):
        raise RuntimeError("secret-token-in-the-message")


@pytest.fixture
def plugged(app):
    pm = app.registry["plugins.manager"]
    registered = []

    def plug(plugin, name):
        pm.register(plugin, name=name)
        registered.append(plugin)

    yield plug
    for plugin in registered:
        pm.unregister(plugin)


def test_plugin_checks_are_shown_beside_the_cores(testapp, plugged):
    plugged(Certificates(), "mypages-certs")

    answer = testapp.get("/readyz?format=json")

    found = checks(answer)["mypages-certs:certificate"]
    assert (found["status"], found["detail"], found["data"]["days_left"]) == (
        "warn", "12 days left", 12)
    assert answer.status_int == 200 and answer.json["status"] == "warn"


def test_a_check_that_raises_is_down_under_its_plugins_name(testapp, plugged):
    plugged(Broken(), "mypages-broken")
    plugged(Certificates(), "mypages-certs")

    answer = testapp.get("/readyz?format=json", status=503)

    found = checks(answer)
    assert found["mypages-broken:mypages-broken"]["status"] == "down"
    assert "RuntimeError" in found["mypages-broken:mypages-broken"]["detail"]
    assert "secret-token" not in answer.text
    assert found["mypages-certs:certificate"]["status"] == "warn"  # the others still ran


class CountsCompanies:
    """Reads through the session it is given, and leaves a write behind that must not stay."""
    @hookimpl
    def mypages_health_checks(self, dbsession):
        count = dbsession.scalar(text("SELECT count(*) FROM companies"))
        dbsession.execute(text("DELETE FROM companies"))
        return [HealthCheck("companies", HealthCheck.OK, f"{count} companies", {"count": count})]


def test_a_check_reads_through_a_session_of_its_own_that_is_rolled_back(
        testapp, plugged, factory, dbsession):
    factory.company(name="Counted AB")
    dbsession.commit()
    plugged(CountsCompanies(), "mypages-count")

    found = checks(testapp.get("/readyz?format=json"))["mypages-count:companies"]

    assert found["data"]["count"] == 1
    assert dbsession.scalar(text("SELECT count(*) FROM companies")) == 1


def test_a_check_that_returns_something_else_is_down(testapp, plugged):
    plugged(types.SimpleNamespace(mypages_health_checks=hookimpl(lambda: ["fine"])), "odd")

    assert checks(testapp.get("/readyz?format=json", status=503))["odd:odd"]["status"] == "down"


def test_operators_get_a_page_in_their_language(testapp, plugged):
    plugged(Broken(), "mypages-broken")

    page = testapp.get("/readyz", headers={"Accept-Language": "sv", "Accept": "text/html"},
                       status=503)

    assert page.content_type == "text/html"
    assert "Databas" in page.text and "Nere" in page.text
    assert page.html.find("tr", attrs={"data-check": "mypages-broken:mypages-broken"})
    assert page.html.find("p", role="alert")


def test_a_load_balancers_plain_request_reads_the_status(testapp):
    answer = testapp.get("/readyz")

    assert answer.status_int == 200 and answer.content_type == "text/html"


def test_the_command_prints_the_same_and_exits_0_when_ready(mypages_cli):
    shown = mypages_cli("health").stdout

    assert "database" in shown and "ready (ok)" in shown
    found = json.loads(mypages_cli("health", "--json").stdout)
    assert found["ready"] is True
    assert {check["name"] for check in found["checks"]} >= {"database", "migrations", "storage",
                                                             "jobs"}


def test_the_command_exits_1_when_something_is_down(mypages_cli, plugged):
    plugged(Broken(), "mypages-broken")

    shown = mypages_cli("health", status=1).stdout
    assert "NOT READY (down)" in shown and "mypages-broken" in shown
    assert mypages_cli.json("health", status=1)["status"] == "down"


def test_over_http_readyz_says_what_is_down(served):
    status, headers, body = served.get("/readyz?format=json")

    assert status == 503
    # the core's own checks (every installed plugin's are there as well)
    found = {check["name"]: check["status"] for check in json.loads(body)["checks"]
             if check["source"] == CORE}
    assert found == {"database": "ok", "migrations": "ok", "storage": "down", "jobs": "ok"}
    assert served.get("/healthz")[0] == 200
