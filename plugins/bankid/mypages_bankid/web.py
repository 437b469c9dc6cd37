"""The plugin's configuration: the RP client from the ``bankid.*`` settings, routes, static
files and translations."""
from __future__ import annotations

import threading
from pathlib import Path

from pyramid.settings import asbool

from mypages_bankid.client import FAKE, ConfigurationError, RpClient, config_from_settings
from mypages_bankid.dev import fake_service

REGISTRY_KEY = "bankid.service"


class BankIDService:
    """The RP client of the configured environment, made on first use (a fake service is
    started then, in development); ``None`` config: BankID is not configured here."""

    def __init__(self, config, fake_directory: str | None = None):
        self.config = config
        self.fake_directory = fake_directory
        self._client = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self.config is not None

    @property
    def is_fake(self) -> bool:
        return self.config is not None and self.config.environment == FAKE

    def client(self) -> RpClient:
        with self._lock:
            if self._client is None:
                if self.is_fake:
                    self._client = RpClient(fake_service(self.fake_directory).rp_config)
                else:
                    self._client = RpClient(self.config)
            return self._client


def signing_ca_file(service: BankIDService, settings) -> str | None:
    """The authorities people's signing certificates are verified against: the
    ``bankid.signing_ca_file`` setting, or the fake's in development."""
    if service.is_fake:
        if service.fake_directory:  # without starting the fake (a command, say)
            return str(Path(service.fake_directory) / "signing_ca.pem")
        return fake_service().certificates.signing_ca_file
    return (settings.get("bankid.signing_ca_file") or "").strip() or None


def service_of(where) -> BankIDService:
    registry = getattr(where, "registry", where)
    return registry[REGISTRY_KEY]


def includeme(config):
    settings = config.get_settings()
    rp_config = config_from_settings(settings)
    if rp_config is not None and rp_config.environment == FAKE and (
            settings.get("mypages.environment") == "production"
            or not asbool(settings.get("mypages.dev_features"))):
        raise ConfigurationError("bankid.environment = fake is for development only: it needs "
                                 "mypages.dev_features, which production refuses")
    config.registry[REGISTRY_KEY] = BankIDService(
        rp_config, (settings.get("bankid.fake_directory") or "").strip() or None)
    config.add_translation_dirs("mypages_bankid:locale/")
    config.add_static_view("bankid-static", "mypages_bankid:static/", cache_max_age=3600)
    config.add_route("bankid_sign_in", "/bankid/sign-in")
    config.add_route("bankid_step_up", "/bankid/step-up")
    config.add_route("bankid_link", "/bankid/account")
    config.add_route("bankid_unlink", "/bankid/unlink")
    config.add_route("bankid_start", "/bankid/start")
    config.add_route("bankid_order", "/bankid/order/{id}")
    config.add_route("bankid_status", "/bankid/order/{id}/status")
    config.add_route("bankid_cancel", "/bankid/order/{id}/cancel")
    config.add_route("bankid_finish", "/bankid/order/{id}/finish")
    config.add_route("bankid_sign", "/bankid/sign/{id}")
    config.add_route("bankid_phone_auth", "/operator/bankid/phone")
    config.add_route("bankid_phone_order", "/operator/bankid/phone/{id}")
    config.add_company_route("bankid_settings", "/settings/bankid")
    config.scan("mypages_bankid.views")
    config.scan("mypages_bankid.phone")
