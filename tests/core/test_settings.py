"""Settings are parsed once into one typed object, and a value that cannot be used stops
start-up; production refuses to start with development-only settings; the shipped ini files
agree."""
import dataclasses
import datetime as dt
import re
import secrets
from ipaddress import ip_network
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_appsettings

from mypages import application, main
from mypages.accounts.passwords import DEFAULT_COST, Argon2Cost
from mypages.db.migrate import PendingMigrations, migration_sources, upgrade_all
from mypages.outbound import Policy, outbound_client
from mypages.services import password_hasher, settings_of
from mypages.settings import (DEFAULT_SECRET, DEVELOPMENT_BLIND_INDEX_KEY, InvalidSetting,
                              UnsafeConfiguration, check_production, parse)

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = secrets.token_urlsafe(48)


@pytest.fixture
def production_env(monkeypatch):
    """The environment variables production.ini reads its secrets from."""
    monkeypatch.setenv("MYPAGES_SECRET", GOOD_SECRET)
    monkeypatch.setenv("MYPAGES_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("MYPAGES_BLIND_INDEX_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("MYPAGES_BASE_URL", "https://mypages.example.se")
    monkeypatch.setenv("MYPAGES_SMTP_HOST", "smtp.example.se")
    return monkeypatch


@pytest.fixture
def production_settings(production_env, tmp_path) -> dict:
    return {
        "sqlalchemy.url": f"sqlite:///{tmp_path}/mypages.sqlite",
        "mypages.environment": "production",
        "mypages.secret": "env:MYPAGES_SECRET",
        "mypages.encryption_keys": "env:MYPAGES_ENCRYPTION_KEYS",
        "mypages.blind_index_key": "env:MYPAGES_BLIND_INDEX_KEY",
        "mypages.base_url": "env:MYPAGES_BASE_URL",
        "mypages.smtp.host": "env:MYPAGES_SMTP_HOST",
        "mypages.dev_features": "false",
        "mypages.session.secure": "true",
        "mypages.jobs.in_process": "false",
        "pyramid.reload_templates": "false",
        # one plugin with tables of its own is enough here; a production installation
        # leaves the development tools out (tests/devtools)
        "mypages.plugins.allow": "notes",
        "mypages.plugins.deny": "devtools",
    }


# -- pending migrations --------------------------------------------------------------

def test_production_refuses_to_start_with_pending_migrations(production_settings):
    with pytest.raises(PendingMigrations) as refused:
        main({"__file__": "/etc/mypages/production.ini"}, **production_settings)

    assert str(refused.value) == (
        "Refusing to start in production: pending database migrations of mypages, "
        "mypages-example-notes: run `mypages -c /etc/mypages/production.ini db upgrade`")


def test_production_starts_once_every_distribution_is_migrated(production_settings):
    built = application(production_settings)
    engine = built.registry["db.engine"]
    sources = migration_sources(built.registry)
    upgrade_all(engine, sources[:1])  # the core only
    with pytest.raises(PendingMigrations, match="of mypages-example-notes: run"):
        main({}, **production_settings)

    upgrade_all(engine, sources)
    main({}, **production_settings).registry["db.engine"].dispose()
    engine.dispose()


def test_development_starts_with_pending_migrations_and_warns_loudly(production_settings, caplog):
    development = {**production_settings, "mypages.environment": "development"}

    app = main({"__file__": "development.ini"}, **development)

    [warning] = [record for record in caplog.records if record.name == "mypages.db.migrate"]
    assert warning.levelname == "WARNING"
    assert ("pending database migrations of mypages, mypages-example-notes: run "
            "`mypages -c development.ini db upgrade`") in warning.getMessage()
    assert "!" * 78 in warning.getMessage()
    app.registry["db.engine"].dispose()


def refusal(settings: dict) -> str:
    with pytest.raises(UnsafeConfiguration) as refused:
        main({}, **settings)
    return str(refused.value)


def test_production_starts_with_good_settings(production_settings):
    app = application(production_settings)

    assert settings_of(app).secret == GOOD_SECRET  # read from the environment
    app.registry["db.engine"].dispose()


@pytest.mark.parametrize("change, problem", [
    ({"mypages.secret": DEFAULT_SECRET}, "mypages.secret"),
    ({"mypages.secret": "x" * 31}, "mypages.secret"),
    ({"mypages.secret": ""}, "mypages.secret"),
    ({"mypages.dev_features": "true"}, "mypages.dev_features must be false"),
    ({"mypages.session.secure": "false"}, "mypages.session.secure must be true"),
    ({"mypages.outbound.allow_private": "true"}, "mypages.outbound.allow_private must be false"),
    ({"pyramid.reload_templates": "true"}, "pyramid.reload_templates must be false"),
    ({"mypages.blind_index_key": ""}, "mypages.blind_index_key must be set"),
    ({"mypages.blind_index_key": DEVELOPMENT_BLIND_INDEX_KEY}, "mypages.blind_index_key"),
    ({"mypages.blind_index_key": "k" * 31}, "mypages.blind_index_key"),
])
def test_production_refuses_unsafe_settings(production_settings, change, problem):
    message = refusal({**production_settings, **change})

    assert message.startswith("Refusing to start in production")
    assert problem in message
    assert message.count("\n- ") == 1  # only the one problem is named


@pytest.mark.parametrize("cost, weak", [
    ({"memory_cost": "19455"}, ["memory_cost"]),
    ({"time_cost": "1"}, ["time_cost"]),
    ({"memory_cost": "1024", "time_cost": "1"}, ["memory_cost", "time_cost"]),
])
def test_production_refuses_password_hashing_below_the_owasp_floor(production_settings, cost,
                                                                   weak):
    message = refusal({**production_settings,
                       **{f"mypages.passwords.argon2_{name}": value for name, value in cost.items()}})

    assert message.count("\n- ") == 1
    assert "below the OWASP floor" in message
    for name in ("memory_cost", "time_cost", "parallelism"):
        assert (f"mypages.passwords.argon2_{name}" in message) == (name in weak)


def test_production_takes_a_hashing_cost_at_the_floor_or_above(production_settings):
    app = application({**production_settings, "mypages.passwords.argon2_memory_cost": "19456",
                       "mypages.passwords.argon2_time_cost": "2",
                       "mypages.passwords.argon2_parallelism": "1"})

    assert password_hasher(app).cost == Argon2Cost(19 * 1024, 2, 1)
    app.registry["db.engine"].dispose()


def test_production_hashes_at_todays_strong_cost_by_default(production_settings):
    app = application(production_settings)

    assert password_hasher(app).cost == DEFAULT_COST == Argon2Cost(64 * 1024, 3, 4)
    assert "$argon2id$v=19$m=65536,t=3,p=4$" in password_hasher(app).hash("a passphrase")
    app.registry["db.engine"].dispose()


@pytest.mark.parametrize("setting, value, problem", [
    ("mypages.passwords.argon2_time_cost", "three", "must be a whole number"),
    ("mypages.passwords.argon2_parallelism", "0", "must be a whole number of at least 1"),
    ("mypages.passwords.argon2_memory_cost", "16", "at least 8 KiB per lane"),
])
def test_a_hashing_cost_argon2_cannot_run_with_is_refused_in_any_environment(setting, value,
                                                                             problem):
    with pytest.raises(ConfigurationError, match=problem):
        parse({"sqlalchemy.url": "sqlite://", "mypages.environment": "test", setting: value})


def test_production_refuses_the_debug_toolbar(production_settings):
    # On the settings: the toolbar is not installed here, and Pyramid imports it before any check.
    settings = parse({**production_settings,
                      "pyramid.includes": "pyramid_tm\npyramid_debugtoolbar"})

    with pytest.raises(UnsafeConfiguration, match="pyramid_debugtoolbar must not be included"):
        check_production(settings)


def test_a_short_secret_from_the_environment_is_refused_without_being_shown(production_settings,
                                                                            production_env):
    production_env.setenv("MYPAGES_SECRET", "Sh0rtButSecret")

    message = refusal(production_settings)

    assert "at least 32 characters" in message
    assert "Sh0rtButSecret" not in message


def test_a_missing_secret_in_the_environment_is_refused(production_settings, production_env):
    production_env.delenv("MYPAGES_SECRET")

    assert "mypages.secret must be set" in refusal(production_settings)


def test_every_problem_is_named_at_once(production_settings, production_env):
    production_env.delenv("MYPAGES_SECRET")

    message = refusal({**production_settings, "mypages.dev_features": "true",
                       "mypages.session.secure": "false"})

    for problem in ("mypages.secret", "mypages.dev_features", "mypages.session.secure"):
        assert problem in message


def test_other_environments_are_not_checked():
    settings = parse({"sqlalchemy.url": "sqlite://", "mypages.environment": "test",
                      "mypages.secret": DEFAULT_SECRET, "mypages.dev_features": "true",
                      "mypages.session.secure": "false"})

    check_production(settings)


# -- the shipped ini files -------------------------------------------------------

def shipped(name: str) -> dict:
    return dict(get_appsettings(str(ROOT / name)))


def test_production_ini_refuses_to_start_without_its_secret(production_env):
    production_env.delenv("MYPAGES_SECRET")

    message = refusal(shipped("production.ini"))

    assert "mypages.secret must be set" in message
    assert "MYPAGES_SECRET" in message
    assert message.count("\n- ") == 1  # the secret is its only problem


def test_production_ini_starts_with_its_secrets_in_the_environment(production_env):
    # builds without connecting to its database; this machine has the development tools,
    # which production refuses (tests/devtools), a production installation does not
    app = application({**shipped("production.ini"), "mypages.plugins.deny": "devtools"})

    settings = settings_of(app)
    assert settings.environment == "production"
    assert settings.secret == GOOD_SECRET
    assert settings.jobs_in_process is False  # job workers run on their own
    # addresses company admins type: https only, never an internal address
    assert outbound_client(app).policy == Policy(allow_private=False, allowed_networks=())


def test_production_lets_the_operator_name_internal_networks(production_settings):
    app = application({**production_settings,
                       "mypages.outbound.allow_networks": "10.20.0.0/16\nfd12:3456::/48"})

    assert outbound_client(app).policy == Policy(
        allowed_networks=(ip_network("10.20.0.0/16"), ip_network("fd12:3456::/48")))
    app.registry["db.engine"].dispose()


def test_a_network_that_is_not_one_stops_start_up(production_settings):
    with pytest.raises(ConfigurationError, match="mypages.outbound.allow_networks"):
        main({}, **production_settings, **{"mypages.outbound.allow_networks": "10.20.0.0/33"})


def test_development_ini_is_not_a_production_config():
    settings = shipped("development.ini")
    assert settings["mypages.environment"] == "development"

    with pytest.raises(UnsafeConfiguration) as refused:
        check_production(parse({**settings, "mypages.environment": "production"}))

    message = str(refused.value)
    for problem in ("mypages.secret", "mypages.dev_features", "mypages.session.secure",
                    "pyramid.reload_templates", "mypages.outbound.allow_private"):
        assert problem in message


@pytest.mark.parametrize("environment", ["Production", "prod", "staging"])
def test_an_unknown_environment_is_refused(environment):
    # a typo must not silently skip the production checks
    with pytest.raises(UnsafeConfiguration, match="mypages.environment"):
        parse({"sqlalchemy.url": "sqlite://", "mypages.environment": environment,
               "mypages.secret": DEFAULT_SECRET})


@pytest.mark.parametrize("key, variable, problem", [
    ("mypages.base_url", "MYPAGES_BASE_URL", "mypages.base_url must be the https://"),
    ("mypages.smtp.host", "MYPAGES_SMTP_HOST", "mypages.smtp.host must be set"),
])
def test_production_needs_its_address_and_mail_server(production_settings, production_env, key,
                                                      variable, problem):
    production_env.delenv(variable)

    assert problem in refusal(production_settings)


# -- one typed settings object, parsed once ----------------------------------------

TEST_SETTINGS = {"sqlalchemy.url": "sqlite://", "mypages.environment": "test"}


def test_the_settings_are_parsed_once_into_one_typed_object(monkeypatch):
    import mypages.settings as settings_module

    parsed = []
    real_parse = settings_module.parse
    monkeypatch.setattr(settings_module, "parse", lambda raw: parsed.append(1) or real_parse(raw))
    app = main({}, **TEST_SETTINGS, **{"mypages.smtp.host": "smtp.example.se",
                                       "mypages.smtp.port": "2525",
                                       "mypages.smtp.starttls": "no",
                                       "mypages.session.idle_minutes": "30",
                                       "mypages.dns.nameservers": "192.0.2.53:5353 [2001:db8::53]",
                                       "mypages.base_url": "https://mypages.example.se/"})

    settings = settings_of(app)
    assert parsed == [1]
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.starttls) == (
        "smtp.example.se", 2525, False)
    assert settings.session_idle == dt.timedelta(minutes=30)
    assert settings.dns_nameservers == (("192.0.2.53", 5353), ("2001:db8::53", 53))
    assert settings.base_url == "https://mypages.example.se"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.base_url = "https://elsewhere.example"
    app.registry["db.engine"].dispose()


def test_no_domain_reads_the_raw_settings():
    """Only mypages.settings reads ``mypages.*`` strings; everything else reads typed fields."""
    reads = re.compile(r"""settings(\(\))?\.get\(\s*["']mypages\."""
                       r"""|settings(\(\))?\[\s*["']mypages\.[\w.]+["']\](?!\s*=[^=])""")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "core" / "mypages").rglob("*.py")
                 if path.name != "settings.py" and "testing" not in path.parts
                 and reads.search(path.read_text())]
    assert offenders == []


@pytest.mark.parametrize("key, value, problem", [
    ("mypages.smtp.port", "smtp", "mypages.smtp.port must be a whole number from 1 to 65535"),
    ("mypages.smtp.port", "70000", "mypages.smtp.port must be a whole number from 1 to 65535"),
    ("mypages.session.idle_minutes", "0", "mypages.session.idle_minutes must be a whole number"),
    ("mypages.session.absolute_hours", "1.5", "mypages.session.absolute_hours must be a whole"),
    ("mypages.dns.timeout", "-1", "mypages.dns.timeout must be a number of at least 0.1"),
    ("mypages.dns.nameservers", "[2001:db8::53", "mypages.dns.nameservers: '[2001:db8::53'"),
    ("mypages.dns.nameservers", "ns.example:dns", "mypages.dns.nameservers: 'ns.example:dns'"),
    ("mypages.dev_features", "maybe", "mypages.dev_features must be true or false"),
    ("mypages.jobs.in_process", "sometimes", "mypages.jobs.in_process must be true or false"),
    ("mypages.base_url", "mypages.example.se", "mypages.base_url must be the http:// or https://"),
    ("mypages.trusted_proxies", "10.0.0.0/33", "mypages.trusted_proxies: '10.0.0.0/33'"),
    ("sqlalchemy.url", "", "sqlalchemy.url must be set"),
])
def test_a_value_that_cannot_be_used_stops_start_up_naming_it(key, value, problem):
    with pytest.raises(InvalidSetting) as refused:
        main({}, **{**TEST_SETTINGS, key: value})

    assert str(refused.value).startswith(problem)
    if value:
        assert repr(value) in str(refused.value)  # what was found, to fix it by


def test_secrets_stay_out_of_the_settings_repr(production_settings):
    settings = parse({**production_settings, "mypages.smtp.password": "smtp-Pa55word"})

    shown = repr(settings)
    assert settings.secret == GOOD_SECRET and settings.smtp.password == "smtp-Pa55word"
    for secret in (GOOD_SECRET, "smtp-Pa55word", *settings.encryption_keys):
        assert secret not in shown
