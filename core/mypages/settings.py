"""Typed access to the ini settings, and the checks that keep production safe."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from argon2 import profiles
from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool, aslist

from mypages.client_address import trusted_proxies

DEFAULT_SECRET = "change-me-development-only"
MIN_SECRET_LENGTH = 32


class UnsafeConfiguration(ConfigurationError):
    """The configuration would run production with development-only parts."""


def resolve_secret(value: str | None) -> str:
    """``env:NAME`` reads the secret from the environment, so ini files hold no secrets."""
    value = (value or "").strip()
    if value.startswith("env:"):
        return os.environ.get(value[4:], "")
    return value


#: The encryption key of development.ini and the tests (mypages.crypto); production refuses it.
DEVELOPMENT_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LWZvci11c2U="


def keys_from_setting(value: str | None) -> list[str]:
    """The Fernet keys of ``mypages.encryption_keys``, newest first."""
    return [key.strip() for key in resolve_secret(value).split(",") if key.strip()]


# the cost of password hashing (argon2id) that core/mypages/accounts/passwords.py hashes at
SETTING_PREFIX = "mypages.passwords.argon2_"


@dataclass(frozen=True)
class Argon2Cost:
    memory_cost: int  # KiB
    time_cost: int
    parallelism: int

    def below(self, floor: "Argon2Cost") -> list[str]:
        """The names of the parameters under ``floor``'s."""
        return [name for name, value in asdict(self).items() if value < getattr(floor, name)]


#: today's strong default (what a PasswordHasher() makes)
DEFAULT_COST = Argon2Cost(memory_cost=profiles.RFC_9106_LOW_MEMORY.memory_cost,
                          time_cost=profiles.RFC_9106_LOW_MEMORY.time_cost,
                          parallelism=profiles.RFC_9106_LOW_MEMORY.parallelism)
OWASP_FLOOR = Argon2Cost(memory_cost=19 * 1024, time_cost=2, parallelism=1)


def cost_from_settings(settings: dict) -> Argon2Cost:
    """The cost the settings ask for, each parameter defaulting to ``DEFAULT_COST``'s;
    ``ValueError`` names a parameter argon2 cannot run with."""
    values = {}
    for name, default in asdict(DEFAULT_COST).items():
        raw = settings.get(SETTING_PREFIX + name, default)
        try:
            values[name] = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{SETTING_PREFIX}{name} must be a whole number, not {raw!r}") from None
        if values[name] < 1:
            raise ValueError(f"{SETTING_PREFIX}{name} must be at least 1")
    if values["memory_cost"] < 8 * values["parallelism"]:  # argon2's own minimum
        raise ValueError(f"{SETTING_PREFIX}memory_cost must be at least 8 KiB per lane "
                         f"({SETTING_PREFIX}parallelism)")
    return Argon2Cost(**values)


ENVIRONMENTS = ("development", "test", "production")


def normalize(settings: dict) -> dict:
    environment = settings.get("mypages.environment", "development").strip()
    if environment not in ENVIRONMENTS:
        # a typo such as "Production" must not skip the production checks
        raise UnsafeConfiguration(f"mypages.environment is {environment!r}; it must be one of "
                                  + ", ".join(ENVIRONMENTS))
    settings["mypages.environment"] = environment
    settings["mypages.secret"] = resolve_secret(settings.get("mypages.secret"))
    settings["mypages.dev_features"] = asbool(settings.get("mypages.dev_features", False))
    settings["mypages.jobs.in_process"] = asbool(settings.get("mypages.jobs.in_process", False))
    settings["mypages.session.secure"] = asbool(settings.get("mypages.session.secure", True))
    settings["mypages.outbound.allow_private"] = asbool(
        settings.get("mypages.outbound.allow_private", False))
    settings["mypages.plugins.allow"] = aslist(settings.get("mypages.plugins.allow", "*"))
    settings["mypages.plugins.deny"] = aslist(settings.get("mypages.plugins.deny", ""))
    settings["mypages.trusted_proxies"] = trusted_proxies(settings.get("mypages.trusted_proxies"))
    try:
        settings["mypages.passwords.argon2"] = cost_from_settings(settings)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    for key in ("mypages.base_url", "mypages.smtp.host", "mypages.smtp.user"):
        if key in settings:
            settings[key] = resolve_secret(settings[key])
    return settings


def check_production(settings: dict) -> None:
    """Refuse to start production with a default secret or development features."""
    if settings["mypages.environment"] != "production":
        return
    secret = settings["mypages.secret"]
    problems = []
    if not secret or secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"mypages.secret must be set (for example env:MYPAGES_SECRET) to a random value of "
            f"at least {MIN_SECRET_LENGTH} characters, not the development default"
        )
    keys = keys_from_setting(settings.get("mypages.encryption_keys"))
    if not keys or DEVELOPMENT_KEY in keys:
        problems.append("mypages.encryption_keys must be set (for example "
                        "env:MYPAGES_ENCRYPTION_KEYS) to Fernet keys of your own, newest first; "
                        "make one with `mypages keys new`")
    if not settings.get("mypages.base_url", "").startswith("https://"):
        problems.append("mypages.base_url must be the https:// address people use "
                        "(links in e-mails point there)")
    if not settings.get("mypages.smtp.host"):
        problems.append("mypages.smtp.host must be set: production sends e-mail, "
                        "it does not write it to files")
    if settings["mypages.dev_features"]:
        problems.append("mypages.dev_features must be false (it mounts offline fakes and demo data)")
    if settings["mypages.outbound.allow_private"]:
        problems.append("mypages.outbound.allow_private must be false (it lets addresses that "
                        "company admins type reach internal networks); list the internal networks "
                        "that may be reached in mypages.outbound.allow_networks instead")
    if not settings["mypages.session.secure"]:
        problems.append("mypages.session.secure must be true (cookies only over HTTPS)")
    weak = settings["mypages.passwords.argon2"].below(OWASP_FLOOR)
    if weak:
        problems.append("password hashing below the OWASP floor (argon2id, 19 MiB, t=2, p=1): "
                        + ", ".join(f"mypages.passwords.argon2_{name}" for name in weak)
                        + " (leave them unset for the default: 64 MiB, t=3, p=4)")
    if settings.get("pyramid.reload_templates") and asbool(settings["pyramid.reload_templates"]):
        problems.append("pyramid.reload_templates must be false")
    if "pyramid_debugtoolbar" in settings.get("pyramid.includes", ""):
        problems.append("pyramid_debugtoolbar must not be included")
    if problems:
        raise UnsafeConfiguration("Refusing to start in production:\n- " + "\n- ".join(problems))


def includeme(config):
    settings = normalize(config.get_settings())
    check_production(settings)
