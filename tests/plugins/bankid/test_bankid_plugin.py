"""The distribution: its hooks, catalogs in eight languages, migrations matching its models, its
development stand-in, and the RP certificate's expiry in the health checks."""
from __future__ import annotations

import datetime as dt
import importlib
import sys

import pytest

from mypages.testing.checks import catalog_problems, migration_problems, plugin_problems
from mypages.toolkit import HealthCheck

import mypages_bankid
from mypages_bankid.client import ConfigurationError
from mypages_bankid.fake import FakeCertificates
from mypages_bankid.web import BankIDService, REGISTRY_KEY


@pytest.fixture
def installed(bankid_site):
    sys.path.insert(0, str(bankid_site))
    importlib.invalidate_caches()
    yield
    sys.path.remove(str(bankid_site))
    importlib.invalidate_caches()


def test_the_plugin_passes_the_plugin_check(installed):
    """Hooks, catalogs, migrations, CSRF on every POST, company pages through the module's
    lifecycle (``mypages plugin check bankid``)."""
    problems = plugin_problems("bankid")
    assert problems == [], "\n".join(map(str, problems))


def test_every_message_is_translated_in_eight_languages(installed):
    assert catalog_problems("bankid") == []


def test_the_migrations_make_what_the_models_say(bankid_app, tmp_path):
    assert migration_problems(bankid_app, "mypages-bankid",
                              f"sqlite:///{tmp_path}/fresh.sqlite") == []


@pytest.mark.parametrize("days, status", [(400, HealthCheck.OK), (29, HealthCheck.WARN),
                                          (-1, HealthCheck.DOWN)])
def test_the_rp_certificates_days_left_are_a_health_check(rp_config, tmp_path, days, status):
    now = dt.datetime.now(dt.timezone.utc)
    certificates = FakeCertificates(tmp_path, rp_not_after=now + dt.timedelta(days=days, hours=1))
    registry = {REGISTRY_KEY: BankIDService(rp_config(certificate=certificates.rp_p12_file))}
    [check] = mypages_bankid.mypages_health_checks(registry=registry, now=now)
    assert (check.name, check.status, check.data["days_left"]) == ("bankid.certificate", status,
                                                                  days)


def test_the_readiness_check_shows_the_certificate(bankid_app, browser):
    answer = browser().get("/readyz", expect_errors=True)
    assert "bankid.certificate" in answer.text


def test_production_refuses_the_fake(mypages_settings, bankid_site):
    from mypages.testing.plugin import build_app

    sys.path.insert(0, str(bankid_site))
    importlib.invalidate_caches()
    try:
        with pytest.raises(Exception) as refused:
            build_app(dict(mypages_settings, **{"bankid.environment": "fake"}), migrate=False)
    finally:
        sys.path.remove(str(bankid_site))
        importlib.invalidate_caches()
    assert "development only" in str(refused.value)
    assert isinstance(refused.value, ConfigurationError) or "ConfigurationError" in repr(
        refused.value)
