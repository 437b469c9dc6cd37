"""The ini settings, parsed and checked once at start-up into one typed :class:`Settings`.

:func:`parse` is the only place that reads ``mypages.*`` strings: every domain
reads the typed fields of :func:`settings_of` instead. A value that cannot be
parsed stops start-up with :class:`InvalidSetting`, naming the key and what
it must be; production additionally refuses unsafe values
(:func:`check_production`), naming every problem at once.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import profiles
from limits import parse as parse_limit
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.storage import storage_from_string
from pyramid.exceptions import ConfigurationError
from pyramid.settings import aslist, falsey, truthy

from mypages.client_address import TrustedProxies, trusted_proxies
from mypages.services import SETTINGS_KEY, settings_of

__all__ = ["ApiSettings", "DEFAULT_COST", "DEFAULT_SECRET", "DEVELOPMENT_BLIND_INDEX_KEY",
           "DEVELOPMENT_KEY", "OWASP_FLOOR", "AlertSettings", "Argon2Cost", "InvalidSetting", "OutboundSettings", "PurgeSettings",
           "S3Settings", "Settings", "SmtpSettings", "StorageSettings", "UnsafeConfiguration",
           "check_production", "parse", "resolve_secret", "settings_of"]

DEFAULT_SECRET = "change-me-development-only"
MIN_SECRET_LENGTH = 32
ENVIRONMENTS = ("development", "test", "production")


#: The encryption key of development.ini and the tests (mypages.crypto); production refuses it.
DEVELOPMENT_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LWZvci11c2U="
#: The blind index key of development and the tests; production refuses it.
DEVELOPMENT_BLIND_INDEX_KEY = "development-only-blind-index-key-not-for-use"
MIN_BLIND_INDEX_KEY_LENGTH = 32

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


class InvalidSetting(ConfigurationError):
    """A setting's value cannot be used; start-up stops naming the key and what it must be."""


class UnsafeConfiguration(ConfigurationError):
    """The configuration would run production with development-only parts."""


@dataclass(frozen=True)
class SmtpSettings:
    """``mypages.smtp.*``; an empty ``host`` means e-mail is written to files instead."""

    host: str = ""
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class OutboundSettings:
    """``mypages.outbound.*``: what the outbound client may reach, and how long it waits."""

    allow_private: bool = False
    allow_networks: tuple = ()
    ca_file: str | None = None
    timeout: float = 10.0


S3_ENCRYPTION = ("AES256", "aws:kms", "none")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SIZE = re.compile(r"(\d+)\s*([KMG]i?B?)?", re.IGNORECASE)


@dataclass(frozen=True)
class S3Settings:
    """``mypages.storage.s3.*``. Credentials are not settings: boto3 reads them from the
    environment (variables, or the instance's or task's role)."""

    bucket: str = ""
    region: str = ""
    #: before every key, to share a bucket: ``mypages/``
    prefix: str = ""
    #: server-side encryption: ``AES256``, ``aws:kms`` (with ``kms_key_id``) or ``none``
    sse: str = "AES256"
    kms_key_id: str = ""
    #: another S3-compatible service's address; empty: AWS's for the region
    endpoint_url: str = ""


@dataclass(frozen=True)
class StorageSettings:
    """``mypages.storage.*``: where blobs are kept (:mod:`mypages.storage`)."""

    backend: str = "local"
    directory: str = "var/blobs"
    s3: S3Settings = field(default_factory=S3Settings)


@dataclass(frozen=True)
class PurgeSettings:
    """``mypages.purge.*``: how long the nightly purge keeps rows nobody needs any more."""

    finished_jobs: dt.timedelta = dt.timedelta(days=30)
    ended_sessions: dt.timedelta = dt.timedelta(days=30)
    used_tokens: dt.timedelta = dt.timedelta(days=7)
    read_notifications: dt.timedelta = dt.timedelta(days=90)
    notifications: dt.timedelta = dt.timedelta(days=365)  # read or not
    #: the audit trail's retention: 12 months
    audit_events: dt.timedelta = dt.timedelta(days=365)
    batch_size: int = 1000


@dataclass(frozen=True)
class AlertSettings:
    """``mypages.alerts.*``: when the audit trail's watch calls failed sign-ins many: this
    many to one account, or from one address, within ``window``."""

    failed_sign_ins_per_account: int = 10
    failed_sign_ins_per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ApiSettings:
    """``mypages.api.*``: the REST API's rate limits (``limits`` notation, such as
    ``600/minute``) and where their counters are kept: empty for the application's database
    (shared by every worker and machine), or a ``limits`` storage URI such as
    ``redis://host:6379/0`` (``memory://`` counts per process: for tests only)."""

    rate_limit_per_token: str = "600/minute"
    rate_limit_per_address: str = "1200/minute"
    rate_limit_storage: str = field(default="", repr=False)
    #: how far a process may count ahead of the shared store, in percent of a limit: it
    #: tells the store its counts after that many requests (at most 100) or a second
    rate_limit_slack: int = 5


@dataclass(frozen=True)
class Settings:
    """Every ``mypages.*`` setting, typed (see the operator guide's configuration page).
    Secrets are left out of the ``repr``, so the object may be logged."""

    environment: str = "development"
    secret: str = field(default="", repr=False)
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    #: keys of the blind indexes of encrypted values (``mypages.blind_index_key``), newest first
    blind_index_keys: tuple[str, ...] = field(default=(), repr=False)
    base_url: str = "http://127.0.0.1:6543"
    database_url: str = ""
    dev_features: bool = False
    jobs_in_process: bool = False
    #: the portal's time zone: periodic jobs that run at a time of day run at it here
    time_zone: ZoneInfo = ZoneInfo("Europe/Stockholm")
    purge: PurgeSettings = field(default_factory=PurgeSettings)
    session_secure: bool = True
    session_idle: dt.timedelta = dt.timedelta(hours=8)
    session_absolute: dt.timedelta = dt.timedelta(days=7)
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    #: argon2id's cost for new password hashes (``mypages.passwords.argon2_*``)
    password_cost: Argon2Cost = DEFAULT_COST
    plugins_allow: tuple[str, ...] = ("*",)
    plugins_deny: tuple[str, ...] = ()
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    mail_sender: str = "My Pages <no-reply@localhost>"
    mail_directory: str = "var/mail"
    #: (host, port) of each configured name server; empty: the system's resolver
    dns_nameservers: tuple[tuple[str, int], ...] = ()
    dns_timeout: float = 5.0
    reload_templates: bool = False
    includes: tuple[str, ...] = ()
    storage: StorageSettings = field(default_factory=StorageSettings)
    #: request bodies longer than this many bytes are refused unread (413)
    max_body_size: int = 10 * 1024 * 1024
    #: the readiness check warns when a due job has waited longer than this
    health_job_delay: dt.timedelta = dt.timedelta(minutes=15)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def url(self, path: str) -> str:
        """An absolute address under ``base_url``, for links that leave the site (e-mail)."""
        return self.base_url + "/" + path.lstrip("/")


def resolve_secret(value: str | None) -> str:
    """``env:NAME`` reads the value from the environment, so ini files hold no secrets."""
    value = (value or "").strip()
    if value.startswith("env:"):
        return os.environ.get(value[4:], "")
    return value


class _Reader:
    """Reads one raw mapping, raising :class:`InvalidSetting` with the key's name."""

    def __init__(self, raw: Mapping[str, object]):
        self.raw = raw

    def text(self, key: str, default: str = "", secret: bool = False) -> str:
        value = self.raw.get(key)
        if value is None:
            return default
        return resolve_secret(str(value)) if secret else str(value).strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None or isinstance(value, bool):
            return default if value is None else value
        word = str(value).strip().lower()
        if word in truthy:
            return True
        if word in falsey or word == "":
            return False
        raise InvalidSetting(f"{key} must be true or false, not {value!r}")

    def number(self, key: str, default, kind=int, low=1, high=None):
        value = self.raw.get(key)
        if value is None or str(value).strip() == "":
            return default
        try:
            number = kind(str(value).strip())
        except ValueError:
            number = None
        if number is None or number < low or (high is not None and number > high):
            what = "a whole number" if kind is int else "a number"
            bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise InvalidSetting(f"{key} must be {what} {bounds}, not {value!r}")
        return number

    def words(self, key: str, default: str = "") -> tuple[str, ...]:
        return tuple(aslist(self.text(key, default)))


def _nameserver(entry: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6-address]:port`` or a bare IPv6 address."""
    host, port = entry, "53"
    if entry.startswith("["):
        host, closed, rest = entry[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            host = ""
        port = rest.lstrip(":") or "53"
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    problem = f"mypages.dns.nameservers: {entry!r} is not host, host:port or [IPv6]:port"
    if not host:
        raise InvalidSetting(problem)
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidSetting(problem) from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidSetting(problem)
    return host, int(port)


def _networks(read: _Reader, key: str) -> tuple:
    """Networks in CIDR notation, separated by spaces or lines."""
    try:
        return tuple(ipaddress.ip_network(entry, strict=False)
                     for entry in read.text(key).split())
    except ValueError as error:
        raise InvalidSetting(f"{key}: {error}") from None


def _time_zone(read: _Reader) -> ZoneInfo:
    name = read.text("mypages.time_zone", "Europe/Stockholm")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSetting(f"mypages.time_zone must be a time zone of the IANA database, such "
                             f"as Europe/Stockholm, not {name!r}") from None


def _purge(read: _Reader) -> PurgeSettings:
    def days(key: str, default: dt.timedelta) -> dt.timedelta:
        return dt.timedelta(days=read.number(f"mypages.purge.{key}_days", default.days))

    defaults = PurgeSettings()
    return PurgeSettings(
        finished_jobs=days("finished_jobs", defaults.finished_jobs),
        ended_sessions=days("ended_sessions", defaults.ended_sessions),
        used_tokens=days("used_tokens", defaults.used_tokens),
        read_notifications=days("read_notifications", defaults.read_notifications),
        notifications=days("notifications", defaults.notifications),
        audit_events=days("audit_events", defaults.audit_events),
        batch_size=read.number("mypages.purge.batch_size", defaults.batch_size, high=100_000))


def _argon2_cost(read: _Reader) -> Argon2Cost:
    """Each parameter defaulting to ``DEFAULT_COST``'s; none argon2 cannot run with."""
    values = {name: read.number(SETTING_PREFIX + name, default)
              for name, default in asdict(DEFAULT_COST).items()}
    if values["memory_cost"] < 8 * values["parallelism"]:  # argon2's own minimum
        raise InvalidSetting(f"{SETTING_PREFIX}memory_cost must be at least 8 KiB per lane "
                             f"({SETTING_PREFIX}parallelism)")
    return Argon2Cost(**values)


def _byte_size(read: _Reader, key: str, default: int) -> int:
    """Bytes: ``1048576``, ``512K``, ``10M``, ``1G`` (or ``KiB``, ``MB``: powers of 1024)."""
    value = read.text(key)
    if not value:
        return default
    match = _SIZE.fullmatch(value)
    if not match or int(match.group(1)) < 1:
        raise InvalidSetting(f"{key} must be a size in bytes such as 10485760 or 10M, "
                             f"not {value!r}")
    unit = (match.group(2) or " ")[0].upper()
    return int(match.group(1)) * {" ": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[unit]


def _storage(read: _Reader) -> StorageSettings:
    backend = read.text("mypages.storage.backend", "local")
    if backend not in ("local", "s3"):
        raise InvalidSetting(f"mypages.storage.backend must be local or s3, not {backend!r}")
    bucket = read.text("mypages.storage.s3.bucket", secret=True)
    if bucket and not _BUCKET.fullmatch(bucket):
        raise InvalidSetting(f"mypages.storage.s3.bucket must be an S3 bucket name, "
                             f"not {bucket!r}")
    region = read.text("mypages.storage.s3.region", secret=True)
    if region and not _REGION.fullmatch(region):
        raise InvalidSetting(f"mypages.storage.s3.region must be an AWS region such as "
                             f"eu-north-1, not {region!r}")
    prefix = read.text("mypages.storage.s3.prefix").strip("/")
    sse = read.text("mypages.storage.s3.sse", "AES256")
    if sse not in S3_ENCRYPTION:
        raise InvalidSetting("mypages.storage.s3.sse must be one of " + ", ".join(S3_ENCRYPTION)
                             + f", not {sse!r}")
    endpoint_url = read.text("mypages.storage.s3.endpoint_url", secret=True).rstrip("/")
    if endpoint_url and not endpoint_url.startswith(("http://", "https://")):
        raise InvalidSetting(f"mypages.storage.s3.endpoint_url must be an http:// or https:// "
                             f"address, not {endpoint_url!r}")
    return StorageSettings(
        backend=backend,
        directory=read.text("mypages.storage.directory", StorageSettings.directory),
        s3=S3Settings(bucket=bucket, region=region, prefix=prefix + "/" if prefix else "",
                      sse=sse, kms_key_id=read.text("mypages.storage.s3.kms_key_id", secret=True),
                      endpoint_url=endpoint_url))


def _rate_limit(read: _Reader, key: str, default: str) -> str:
    value = read.text(key, default)
    try:
        parse_limit(value)
    except ValueError:
        raise InvalidSetting(f"{key} must be a rate limit such as 600/minute, not {value!r}") \
            from None
    return value


def _api(read: _Reader) -> ApiSettings:
    storage = read.text("mypages.api.rate_limit_storage", secret=True)
    if storage:
        try:
            storage_from_string(storage)
        except (ConfigurationError, LimitsConfigurationError, ValueError) as error:
            raise InvalidSetting(f"mypages.api.rate_limit_storage: {error}") from None
    return ApiSettings(
        rate_limit_per_token=_rate_limit(read, "mypages.api.rate_limit_per_token",
                                         ApiSettings.rate_limit_per_token),
        rate_limit_per_address=_rate_limit(read, "mypages.api.rate_limit_per_address",
                                           ApiSettings.rate_limit_per_address),
        rate_limit_storage=storage,
        rate_limit_slack=read.number("mypages.api.rate_limit_slack", ApiSettings.rate_limit_slack,
                                     low=0, high=20))


def parse(raw: Mapping[str, object]) -> Settings:
    """The typed settings of an ini file's ``[app:main]`` section; raises
    :class:`InvalidSetting` (or :class:`UnsafeConfiguration` for an unknown
    environment) for the first value that cannot be used."""
    read = _Reader(raw)
    environment = read.text("mypages.environment", "development")
    if environment not in ENVIRONMENTS:
        # a typo such as "Production" must not skip the production checks
        raise UnsafeConfiguration(f"mypages.environment is {environment!r}; it must be one of "
                                  + ", ".join(ENVIRONMENTS))
    base_url = read.text("mypages.base_url", Settings.base_url, secret=True).rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):  # empty: production says
        raise InvalidSetting(f"mypages.base_url must be the http:// or https:// address people "
                             f"open, not {base_url!r}")
    try:
        proxies = trusted_proxies(read.text("mypages.trusted_proxies"))
    except ConfigurationError as error:
        raise InvalidSetting(str(error)) from None
    allowed_networks = _networks(read, "mypages.outbound.allow_networks")
    password_cost = _argon2_cost(read)
    keys = read.text("mypages.encryption_keys", secret=True)
    index_keys = read.text("mypages.blind_index_key", secret=True)
    database_url = read.text("sqlalchemy.url")
    if not database_url:
        raise InvalidSetting("sqlalchemy.url must be set to the database's SQLAlchemy URL, for "
                             "example postgresql+psycopg://mypages@/mypages")
    return Settings(
        environment=environment,
        secret=read.text("mypages.secret", secret=True),
        encryption_keys=tuple(key.strip() for key in keys.split(",") if key.strip()),
        blind_index_keys=tuple(key.strip() for key in index_keys.split(",") if key.strip()),
        base_url=base_url,
        database_url=database_url,
        dev_features=read.flag("mypages.dev_features", False),
        jobs_in_process=read.flag("mypages.jobs.in_process", False),
        time_zone=_time_zone(read),
        purge=_purge(read),
        session_secure=read.flag("mypages.session.secure", True),
        session_idle=dt.timedelta(minutes=read.number("mypages.session.idle_minutes", 8 * 60)),
        session_absolute=dt.timedelta(
            hours=read.number("mypages.session.absolute_hours", 7 * 24)),
        trusted_proxies=proxies,
        password_cost=password_cost,
        plugins_allow=read.words("mypages.plugins.allow", "*"),
        plugins_deny=read.words("mypages.plugins.deny"),
        smtp=SmtpSettings(
            host=read.text("mypages.smtp.host", secret=True),
            port=read.number("mypages.smtp.port", 587, high=65535),
            starttls=read.flag("mypages.smtp.starttls", True),
            user=read.text("mypages.smtp.user", secret=True),
            password=read.text("mypages.smtp.password", secret=True),
        ),
        outbound=OutboundSettings(
            allow_private=read.flag("mypages.outbound.allow_private", False),
            allow_networks=allowed_networks,
            ca_file=read.text("mypages.outbound.ca_file") or None,
            timeout=read.number("mypages.outbound.timeout", 10.0, kind=float, low=0.1),
        ),
        api=_api(read),
        alerts=AlertSettings(
            failed_sign_ins_per_account=read.number(
                "mypages.alerts.failed_sign_ins_per_account",
                AlertSettings.failed_sign_ins_per_account, low=2, high=10_000),
            failed_sign_ins_per_address=read.number(
                "mypages.alerts.failed_sign_ins_per_address",
                AlertSettings.failed_sign_ins_per_address, low=2, high=100_000),
            window=dt.timedelta(minutes=read.number("mypages.alerts.window_minutes", 15,
                                                    high=24 * 60))),
        mail_sender=read.text("mypages.mail.sender", Settings.mail_sender),
        mail_directory=read.text("mypages.mail.directory", Settings.mail_directory),
        dns_nameservers=tuple(_nameserver(entry)
                              for entry in read.text("mypages.dns.nameservers").split()),
        dns_timeout=read.number("mypages.dns.timeout", 5.0, kind=float, low=0.1),
        reload_templates=read.flag("pyramid.reload_templates", False),
        includes=read.words("pyramid.includes"),
        storage=_storage(read),
        max_body_size=_byte_size(read, "mypages.max_body_size", Settings.max_body_size),
        health_job_delay=dt.timedelta(
            minutes=read.number("mypages.health.job_delay_minutes", 15)),
    )


def check_production(settings: Settings) -> None:
    """Refuse to start production with a default secret or development features."""
    if not settings.production:
        return
    secret = settings.secret
    problems = []
    if not secret or secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"mypages.secret must be set (for example env:MYPAGES_SECRET) to a random value of "
            f"at least {MIN_SECRET_LENGTH} characters, not the development default"
        )
    if not settings.encryption_keys or DEVELOPMENT_KEY in settings.encryption_keys:
        problems.append("mypages.encryption_keys must be set (for example "
                        "env:MYPAGES_ENCRYPTION_KEYS) to Fernet keys of your own, newest first; "
                        "make one with `mypages keys new`")
    index_keys = settings.blind_index_keys
    if (not index_keys or DEVELOPMENT_BLIND_INDEX_KEY in index_keys
            or any(len(key) < MIN_BLIND_INDEX_KEY_LENGTH for key in index_keys)):
        problems.append(f"mypages.blind_index_key must be set (for example "
                        f"env:MYPAGES_BLIND_INDEX_KEY) to keys of your own of at least "
                        f"{MIN_BLIND_INDEX_KEY_LENGTH} characters, newest first; make one with "
                        f"`mypages keys new`")
    if not settings.base_url.startswith("https://"):
        problems.append("mypages.base_url must be the https:// address people use "
                        "(links in e-mails point there)")
    if not settings.smtp.host:
        problems.append("mypages.smtp.host must be set: production sends e-mail, "
                        "it does not write it to files")
    if settings.dev_features:
        problems.append("mypages.dev_features must be false (it mounts offline stand-ins under "
                        "/_dev/ and lets `mypages demo` seed demo data)")
    if settings.outbound.allow_private:
        problems.append("mypages.outbound.allow_private must be false (it lets addresses that "
                        "company admins type reach internal networks); list the internal networks "
                        "that may be reached in mypages.outbound.allow_networks instead")
    if not settings.session_secure:
        problems.append("mypages.session.secure must be true (cookies only over HTTPS)")
    weak = settings.password_cost.below(OWASP_FLOOR)
    if weak:
        problems.append("password hashing below the OWASP floor (argon2id, 19 MiB, t=2, p=1): "
                        + ", ".join(f"mypages.passwords.argon2_{name}" for name in weak)
                        + " (leave them unset for the default: 64 MiB, t=3, p=4)")
    if settings.reload_templates:
        problems.append("pyramid.reload_templates must be false")
    if "pyramid_debugtoolbar" in settings.includes:
        problems.append("pyramid_debugtoolbar must not be included")
    problems += _storage_problems(settings.storage)
    if problems:
        raise UnsafeConfiguration("Refusing to start in production:\n- " + "\n- ".join(problems))


def _storage_problems(storage: StorageSettings) -> list[str]:
    if storage.backend != "s3":
        return []
    s3, problems = storage.s3, []
    if not s3.bucket:
        problems.append("mypages.storage.s3.bucket must be set when mypages.storage.backend is s3")
    if not s3.region:
        problems.append("mypages.storage.s3.region must be set (for example eu-north-1) when "
                        "mypages.storage.backend is s3")
    if s3.sse == "none":
        problems.append("mypages.storage.s3.sse must be AES256 or aws:kms: blobs hold "
                        "companies' documents")
    if s3.sse == "aws:kms" and not s3.kms_key_id:
        problems.append("mypages.storage.s3.kms_key_id must name the KMS key when "
                        "mypages.storage.s3.sse is aws:kms")
    if s3.endpoint_url and not s3.endpoint_url.startswith("https://"):
        problems.append("mypages.storage.s3.endpoint_url must be an https:// address")
    return problems


def includeme(config):
    settings = parse(config.get_settings())
    check_production(settings)
    config.registry[SETTINGS_KEY] = settings
