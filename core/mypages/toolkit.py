"""The public API for plugins: import from here, and only from here.

Everything a plugin needs from the core is re-exported by this module (as
CKAN's ``plugins.toolkit``); the rest of the core may change between
releases without notice. See the plugin-author guide.
"""
from pyramid.i18n import TranslationString, TranslationStringFactory

from mypages.accounts.signing_in import sign_in, step_up, user_to_prove
from mypages.accounts.throttle import rate_limit, too_many
from mypages.api.calls import ApiCall
from mypages.api.document import ApiBuilder
from mypages.api.problems import ApiProblem
from mypages.contract import (AuditAlert, AuditEventInfo, AuditRule, AuditRuleContext,
                              CompanyInfo, DashboardCard, DevApp, FederatedIdentity,
                              HealthCheck, JobContext, LoginMethod, Module, NavigationItem,
                              NotificationKind, PeriodicJob, Price, PurchaseRefused,
                              QueuedJobType, RetryAt, SettingsTab, Signature, SignatureRequest,
                              Signer, SignInRefused, SsoProvider, SsoRejected, SsoSetting,
                              UserInfo, WhatsNew)
from mypages.companies import PAGE_COMPANY_ID, for_admins
from mypages.crypto import BlindIndex, EncryptedText, blind_index, blind_index_lookup
from mypages.db import (Base, PreparedRead, UTCDateTime, json_rows, read_all, read_first,
                        utc_from_json, utcnow)
from mypages.demo import DemoContext
from mypages.dev import dev_app_url
from mypages.db.migrate import MigrationSource, add_encrypted_column, run_env
from mypages.hookspecs import HOOKSPEC_VERSION, MypagesDeprecationWarning, hookimpl, hookspec
from mypages.inbox import AdminsOf, notify
from mypages.i18n import (LANGUAGES, Plural, PluralStringFactory, format_date, format_money,
                          format_number, portal_timezone, today)
from mypages.modules.lifecycle import entitled_companies, is_entitled
from mypages.modules.models import ModuleState
from mypages.modules.settings import get_module_settings, save_module_settings
from mypages.events import EventContext
from mypages.outbound import Outbound, OutboundError, outbound_client
from mypages.people.mail import mail_company_admins, mail_operators, mail_user
from mypages.people.members import company_admins, company_members
from mypages.plugins import plugin_hooks
from mypages.privacy.archive import ExportArchive
from mypages.refusals import Refusal
from mypages.services import Clock, Mailer, clock, mailer
from mypages.signing import find_signature, request_signature
from mypages.sso import sso_providers
from mypages.sso.urls import is_endpoint
from mypages.storage import BlobInfo, BlobNotFound, BlobStore, InvalidBlobKey, blob_store
from mypages.web.urls import absolute_url

__all__ = [  # one name a line, so that additions merge cleanly
    "AdminsOf",
    "ApiBuilder",
    "ApiCall",
    "ApiProblem",
    "AuditAlert",
    "AuditEventInfo",
    "AuditRule",
    "AuditRuleContext",
    "Base",
    "BlindIndex",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "Clock",
    "CompanyInfo",
    "DashboardCard",
    "DemoContext",
    "DevApp",
    "EncryptedText",
    "EventContext",
    "ExportArchive",
    "FederatedIdentity",
    "HOOKSPEC_VERSION",
    "HealthCheck",
    "InvalidBlobKey",
    "JobContext",
    "LANGUAGES",
    "LoginMethod",
    "Mailer",
    "MigrationSource",
    "Module",
    "ModuleState",
    "MypagesDeprecationWarning",
    "NavigationItem",
    "NotificationKind",
    "Outbound",
    "OutboundError",
    "PAGE_COMPANY_ID",
    "PeriodicJob",
    "Plural",
    "PluralStringFactory",
    "PreparedRead",
    "Price",
    "PurchaseRefused",
    "QueuedJobType",
    "Refusal",
    "RetryAt",
    "SettingsTab",
    "SignInRefused",
    "Signature",
    "SignatureRequest",
    "Signer",
    "SsoProvider",
    "SsoRejected",
    "SsoSetting",
    "TranslationString",
    "TranslationStringFactory",
    "UTCDateTime",
    "UserInfo",
    "WhatsNew",
    "absolute_url",
    "add_encrypted_column",
    "blind_index",
    "blind_index_lookup",
    "blob_store",
    "clock",
    "company_admins",
    "company_members",
    "dev_app_url",
    "entitled_companies",
    "find_signature",
    "for_admins",
    "format_date",
    "format_money",
    "format_number",
    "get_module_settings",
    "hookimpl",
    "hookspec",
    "is_endpoint",
    "is_entitled",
    "json_rows",
    "mail_company_admins",
    "mail_operators",
    "mail_user",
    "mailer",
    "notify",
    "outbound_client",
    "plugin_hooks",
    "portal_timezone",
    "rate_limit",
    "read_all",
    "read_first",
    "request_signature",
    "run_env",
    "save_module_settings",
    "sign_in",
    "sso_providers",
    "step_up",
    "today",
    "too_many",
    "user_to_prove",
    "utc_from_json",
    "utcnow",
]
