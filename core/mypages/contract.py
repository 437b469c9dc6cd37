"""The value types of the plugin contract (re-exported by :mod:`mypages.toolkit`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Callable, NoReturn

import transaction
from pyramid.i18n import TranslationString

from sqlalchemy import func, select

from mypages.audit.chain import chain_of
from mypages.audit.models import AuditEvent
from mypages.db import session_in_transaction
from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.services import audit_writer, job_queue


@dataclass(frozen=True, slots=True)
class UserInfo:
    """The signed-in user as read when the request began: ``request.user``. Read-only; a view
    that changes the account loads the ``User`` through ``request.dbsession``."""

    id: int
    email: str
    display_name: str
    locale: str | None
    is_operator: bool
    is_active: bool
    last_sign_in_at: dt.datetime | None

    @property
    def name(self) -> str:
        return self.display_name or self.email

    @classmethod
    def of(cls, user) -> "UserInfo":
        """The record of a ``User`` row (core/mypages/accounts/models.py)."""
        return cls(user.id, user.email, user.display_name, user.locale, user.is_operator,
                   user.is_active, user.last_sign_in_at)


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """The company being worked in, as read when the request began: ``request.company``.
    Read-only; a view that changes the company loads the ``Company`` through
    ``request.dbsession``."""

    id: int
    name: str
    #: the Swedish organisation number, ``NNNNNN-NNNN``, or None
    org_number: str | None
    default_locale: str | None
    created_at: dt.datetime
    #: what an invoice needs, as the company's admins keep it on the Company tab (since
    #: hookspec 2.3): the postal address, where invoices are sent, the VAT number (compact,
    #: such as ``SE556036079301``); each None when not given
    street_address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    invoice_email: str | None = None
    vat_number: str | None = None

    @classmethod
    def of(cls, company) -> "CompanyInfo":
        """The record of a ``Company`` row (core/mypages/companies/models.py)."""
        return cls(company.id, company.name, company.org_number, company.default_locale,
                   company.created_at, company.street_address, company.postal_code,
                   company.city, company.invoice_email, company.vat_number)


@dataclass(frozen=True)
class Price:
    """A price shown in the catalogue, formatted per locale by Babel."""

    amount: Decimal
    currency: str = "SEK"
    per: TranslationString | None = None  # for example _("per month")


@dataclass(frozen=True)
class Module:
    """Something a company can activate: offered by a plugin through ``mypages_modules``."""

    key: str
    title: TranslationString
    description: TranslationString
    trial_days: int = 10
    price: Price | None = None


@dataclass(frozen=True)
class SettingsTab:
    """A tab under company settings, linking to a route with a ``company_id`` placeholder."""

    key: str
    title: TranslationString
    route_name: str
    order: int = 100


@dataclass(frozen=True)
class DashboardCard:
    """A card on the company dashboard: a title, and a short text ``body`` or the plugin's
    own Jinja2 ``template`` rendered with ``values`` (or both: the text first)."""

    title: TranslationString
    body: TranslationString | str = ""
    route_name: str | None = None
    order: int = 100
    #: an asset spec, ``mypages_example_notes:templates/card.jinja2``
    template: str | None = None
    values: dict = field(default_factory=dict)


class RetryAt(Exception):
    """Raised by a job: run it again at ``when`` (an aware datetime, or a delay from now),
    for example at the time of a 429 answer's ``Retry-After``. What the job wrote in its
    transaction is dropped, what its chunks committed stays. It is not a failure: a queued
    job's attempt is not counted, a periodic job's next run moves to ``when``."""

    def __init__(self, when: dt.datetime | dt.timedelta, reason: str = ""):
        if isinstance(when, dt.datetime) and when.tzinfo is None:
            raise ValueError("RetryAt needs an aware datetime (or a timedelta)")
        super().__init__(when, reason)
        self.when = when
        self.reason = reason

    def due(self, now: dt.datetime) -> dt.datetime:
        """When to run again, at the earliest ``now``."""
        when = now + self.when if isinstance(self.when, dt.timedelta) else self.when
        return max(when, now)


@dataclass(frozen=True)
class NavigationItem:
    """A link in the top bar of the company's pages (``mypages_navigation``, since hookspec
    2.3), to a route with a ``company_id`` placeholder. It is marked as the current page on
    ``route_name`` and on the routes in ``current_on`` (the module's other pages)."""

    title: TranslationString
    route_name: str
    order: int = 100
    current_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification (``mypages_notification_kinds``, since hookspec 2.3): what
    :func:`mypages.toolkit.notify` is given as ``kind``. Each person chooses on their
    account page whether a kind also comes by e-mail; ``email`` is the choice of whoever
    has not made one. ``key`` is unique across the core and every plugin."""

    key: str
    title: TranslationString
    email: bool = True


@dataclass(frozen=True)
class WhatsNew:
    """A "What's new" entry (``mypages_whats_new``, since hookspec 2.3): shown once to
    each person as a notification when they sign in, from ``date`` (a
    :class:`datetime.date`) on, if their account was made on or before that day. ``id`` is unique and never reused (name it
    after the release: ``"notes-0.2-search"``); ``version`` (``"0.2"``) is shown beside it.
    ``route_name``, if given, is a page with no placeholders to link to."""

    id: str
    date: dt.date
    title: TranslationString
    body: TranslationString
    version: str = ""
    route_name: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEventInfo:
    """An event of the audit trail as a rule of ``mypages_audit_rules`` sees it (since
    hookspec 2.4); read-only. ``company_id`` is the company whose trail holds it (None: the
    platform's); ``seq`` its place there. ``actor_label`` names who acted as they were named
    then; ``target`` is what was acted on; ``ip`` the client's address; ``details`` what the
    writer recorded besides (never secrets)."""

    id: int
    company_id: int | None
    seq: int
    created_at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    target: str
    ip: str
    user_agent: str
    api_token_id: int | None
    details: dict

    @classmethod
    def of(cls, event: AuditEvent) -> "AuditEventInfo":
        return cls(event.id, event.company_id, event.seq, event.created_at, event.actor_id,
                   event.actor_label, event.action, event.target, event.ip, event.user_agent,
                   event.api_token_id, dict(event.details or {}))


#: the columns :meth:`AuditRuleContext.count` compares
_SAME = ("actor_id", "target", "ip", "api_token_id", "action")


@dataclass(frozen=True)
class AuditRuleContext:
    """What a rule's ``judge`` reads with (since hookspec 2.4): ``dbsession`` (read only
    with it: what a rule writes is rolled back), ``registry`` (for
    :func:`mypages.toolkit.clock` and the like) and ``now``, when the watch runs (the event
    happened at its own ``created_at``, a little earlier)."""

    dbsession: object
    registry: object
    now: dt.datetime

    def count(self, event: AuditEventInfo, within: dt.timedelta,
              actions: Collection[str] | None = None, same: Sequence[str] = ()) -> int:
        """How many events of ``event``'s trail, of ``actions`` (the event's own when None),
        were written in the ``within`` before ``event``, ``event`` included, with the same
        value as it in each column of ``same`` (``actor_id``, ``target``, ``ip``,
        ``api_token_id``, ``action``). Events written after it are not counted, so the
        answer is the same whenever the rule is asked."""
        unknown = set(same) - set(_SAME)
        if unknown:
            raise ValueError(f"count compares only {', '.join(_SAME)}, not {sorted(unknown)}")
        query = (select(func.count()).select_from(AuditEvent)
                 .where(AuditEvent.chain_id == chain_of(event.company_id),
                        AuditEvent.seq <= event.seq,
                        AuditEvent.created_at >= event.created_at - within,
                        AuditEvent.action.in_(list(actions or [event.action]))))
        for column in same:
            query = query.where(getattr(AuditEvent, column) == getattr(event, column))
        return self.dbsession.scalar(query)


@dataclass(frozen=True)
class AuditAlert:
    """What a rule raises about an event (since hookspec 2.4): ``text``, a translation
    string of your domain saying what happened, whose ``${name}`` placeholders ``values``
    fill (each reader reads it in their language). ``subject`` names what it is about (an
    account, an address); for ``quiet_for`` after the event the rule raises nothing more
    about the same subject in the same trail (None: every event may raise one)."""

    text: TranslationString
    values: dict = field(default_factory=dict)
    subject: str = ""
    quiet_for: dt.timedelta | None = None


@dataclass(frozen=True)
class AuditRule:
    """A rule that watches the audit trail for suspicious or disallowed behaviour
    (``mypages_audit_rules``, since hookspec 2.4). ``judge(context, event)`` is shown each
    new event whose action is in ``actions``, once, in the order of its trail, with an
    :class:`AuditRuleContext` and an :class:`AuditEventInfo`; it returns an
    :class:`AuditAlert` or None. ``key`` is unique across the core and every plugin;
    ``title`` says what the rule flags, for the alert's heading and the operators' list."""

    key: str
    title: TranslationString
    actions: tuple[str, ...]
    judge: Callable[[AuditRuleContext, AuditEventInfo], "AuditAlert | None"]

    def __post_init__(self):
        if isinstance(self.actions, str) or not self.actions:
            raise ValueError(f"audit rule {self.key!r}: actions is a tuple of action names")


@dataclass(frozen=True)
class JobContext:
    """What a job function receives.

    ``dbsession`` is a session in the job's own transaction; it is committed
    when the function returns, together with the mark that the job is done
    (so a queued job's work is committed exactly once), and rolled back when it
    raises. ``now`` is when the job started (UTC), ``payload`` the queued job's
    payload (empty for periodic jobs), ``name`` the job's name. ``key`` is a
    string of the queued job's own, the same on every attempt (empty for
    periodic jobs): derive from it what a second run must find again.
    """

    dbsession: object  # a sqlalchemy.orm.Session
    registry: object
    now: dt.datetime
    payload: dict
    name: str = ""
    key: str = ""

    def enqueue(self, name: str, payload: dict | None = None, *, dedupe_key: str | None = None,
                run_after: dt.datetime | None = None):
        """Queue a job of a registered :class:`QueuedJobType` in this transaction (the job's
        own, or the chunk's): it exists only if that commits. With ``dedupe_key``, while a
        job of that name and key is queued or running, nothing is added and that job is
        returned."""
        return job_queue(self.registry).enqueue(self.dbsession, name, payload, run_after,
                                                dedupe_key=dedupe_key)

    def audit(self, action: str, *, company_id: int | None = None, target: str = "",
              **details) -> None:
        """Record ``action`` in the audit trail, in the job's transaction (kept only if the
        job succeeds): in the trail of the company ``company_id``, or the platform's when
        ``None``. The actor is the platform itself, no person; the event names the job
        (``details["job"]``). ``details`` must never hold secrets."""
        audit_writer(self.registry).record(self.dbsession, action, company_id=company_id,
                                           target=target, **details, job=self.name)

    @contextmanager
    def chunk(self) -> Iterator["JobContext"]:
        """A short transaction of its own, committed when the block ends (rolled back if it
        raises): ``with job.chunk() as chunk: chunk.dbsession.add(...)``. A long job commits
        its work chunk by chunk, so it never holds SQLite's write lock for its whole run;
        and a job that sends e-mail commits what the mail links to before sending it.
        On SQLite write in chunks only while the job's own session has written nothing
        (that one holds the write lock until the job ends)."""
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            yield replace(self, dbsession=session_in_transaction(
                self.registry["db.session_factory"], tm))

    def retry_at(self, when: dt.datetime | dt.timedelta, reason: str = "") -> NoReturn:
        """Stop here and run again at ``when``: raises :class:`RetryAt`."""
        raise RetryAt(when, reason)


@dataclass(frozen=True)
class HealthCheck:
    """One finding of a readiness check (``/readyz``, ``mypages health``), as the
    ``mypages_health_checks`` hook returns them.

    ``status`` is ``"ok"``, ``"warn"`` (worth an operator's look; the installation still
    takes requests) or ``"down"`` (it cannot serve: ``/readyz`` answers 503). ``detail`` is
    one sentence for the operator, a translation string or plain text, and never holds a
    secret; ``data`` holds numbers for machines (``{"days_left": 12}``), shown as JSON.
    """

    OK = "ok"
    WARN = "warn"
    DOWN = "down"

    name: str
    status: str
    detail: TranslationString | str = ""
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in (self.OK, self.WARN, self.DOWN):
            raise ValueError(f"a health check's status is ok, warn or down, not {self.status!r}")


@dataclass(frozen=True)
class PeriodicJob:
    """``func(job_context)`` runs on one worker at a time: ``every`` so long (counted from
    the end of the previous run), or daily ``at`` a time of day (a naive
    :class:`datetime.time`) in the portal's time zone (``mypages.time_zone``); one of
    the two. ``queue``: only workers of that queue run it (see ``mypages jobs worker``)."""

    name: str
    func: Callable[[JobContext], None]
    every: dt.timedelta = None  # or None, with at=
    at: dt.time | None = None
    queue: str = "default"

    def __post_init__(self):
        if (self.every is None) == (self.at is None):
            raise ValueError(f"periodic job {self.name!r}: give either every= or at=")
        if self.every is not None and self.every <= dt.timedelta(0):
            raise ValueError(f"periodic job {self.name!r}: every= must be positive")
        if self.at is not None and self.at.tzinfo is not None:
            raise ValueError(f"periodic job {self.name!r}: at= is a time of day in the "
                             "portal's time zone, without a tzinfo")


@dataclass(frozen=True)
class QueuedJobType:
    """``func(job_context)`` runs once per ``request.enqueue(name, payload)``; a failing run
    is tried again up to ``max_attempts`` times. Only workers of ``queue`` run it: give
    slow work (OCR, say) a queue of its own, so it never delays the rest."""

    name: str
    func: Callable[[JobContext], None]
    max_attempts: int = 5
    queue: str = "default"


@dataclass(frozen=True)
class DevApp:
    """An offline stand-in for an outside service, served under ``/_dev/<name>/`` while
    development features are on (``mypages.dev_features``); production never mounts it.

    Give exactly one of ``app`` and ``include``:

    ``app(url)``
        builds a WSGI application, once, on the first request for it; ``url`` is where it
        is served (``<mypages.base_url>/_dev/<name>``). It sees the rest of the path as its
        own: ``/_dev/<name>/token`` reaches it as ``/token``.
    ``include``
        a Pyramid include (a callable or a dotted name), included with the route prefix
        ``/_dev/<name>``: for a stand-in with pages of the product's own look.

    ``name`` is one path segment of lower-case letters, digits and hyphens, unique across
    plugins. The ``/_dev/`` index shows ``title`` and ``description``, and the rows
    ``details(request)`` returns: (label, value) pairs such as what to type into a form,
    where a plain string value is shown as code to copy and a translation string as words.
    """

    name: str
    title: TranslationString
    description: TranslationString
    app: Callable[[str], Callable] | None = None
    include: Callable | str | None = None
    details: Callable[[object], list[tuple[TranslationString | str, str]]] | None = None


class PurchaseRefused(Refusal):
    """Raised by a ``mypages_purchase`` implementation; ``message`` is shown to the admin
    and the purchase changes nothing. A :class:`~mypages.refusals.Refusal`."""

    def __init__(self, message: TranslationString):
        super().__init__(message)


#: ``is_set_up(dbsession, user_id)``: whether the user has set the method up
IsSetUp = Callable[[object, int], bool]
#: ``set_up_among(dbsession, user_ids)``: those of ``user_ids`` who have set the method up
SetUpAmong = Callable[[object, Sequence[int]], Collection[int]]


@dataclass(frozen=True)
class LoginMethod:
    """A way of proving who someone is; its ``key`` is what sessions record (amr).

    ``is_mfa``: satisfies a company's "require two-factor authentication"
    (TOTP, recovery codes, BankID and SSO do), in the companies entitled to
    every module of ``modules`` (any company when empty: a method from a
    plugin whose module a company has not bought, or whose trial ended, does
    not count for it, and the people who have nothing else are offered
    the authenticator app instead; nobody is locked out). ``is_local``: a
    credential kept by mypages itself (password, TOTP, recovery codes); local
    methods are closed for a company that requires Single Sign On, except for
    its break-glass admins. Only a company's own Single Sign On connection
    satisfies its "Require from all"; no other method does, local or not.

    The routes are names of the plugin's own routes (none of them has a
    placeholder), offered on the core's pages with ``?next=`` where the person
    goes afterwards: ``sign_in_route`` on the sign-in page, for anyone;
    ``step_up_route`` on the second step of signing in and on step-up (second
    factors) and on re-authentication (every method), to people who have the
    method set up; ``enrol_route`` where a second factor is to be set up;
    ``unlink_route`` on the account page, to people who have it set up.
    ``is_set_up(dbsession, user_id)`` says whether a person has it; a method
    without it is offered to nobody on the pages that ask. ``set_up_among(dbsession,
    user_ids)``, if given, answers the same for many people in one query (the People
    tab of a large company); without it, ``is_set_up`` is asked for each (since hookspec 2.3).
    """

    key: str
    title: TranslationString
    is_mfa: bool = False
    is_local: bool = False
    sign_in_route: str | None = None
    step_up_route: str | None = None
    enrol_route: str | None = None
    unlink_route: str | None = None
    is_set_up: IsSetUp | None = None
    set_up_among: SetUpAmong | None = None
    modules: tuple[str, ...] = ()

    def counts_as_second_factor(self, entitled_modules=frozenset()) -> bool:
        """Whether the method is a second factor in a company entitled to
        ``entitled_modules`` (outside any company: none)."""
        return self.is_mfa and all(key in entitled_modules for key in self.modules)

    def set_up_for(self, dbsession, user_id: int) -> bool:
        """Whether the user has the method set up (False for a method that cannot say)."""
        return self.is_set_up is not None and bool(self.is_set_up(dbsession, user_id))

    def set_up_by_any(self, dbsession, user_ids: Sequence[int]) -> set[int]:
        """Those of ``user_ids`` who have the method set up."""
        if self.set_up_among is not None:
            return set(self.set_up_among(dbsession, user_ids))
        return {user_id for user_id in user_ids if self.set_up_for(dbsession, user_id)}


@dataclass(frozen=True)
class SignatureRequest:
    """What a person is asked to sign (:func:`mypages.toolkit.request_signature`).

    ``text`` is shown to the signer, in BankID's ``simpleMarkdownV1`` (headings ``#``,
    ``*emphasis*``, tables of ``|`` rows; at most 40 000 characters); ``data`` is signed with
    it without being shown (bytes, at most 200 000: what the caller checks the signature
    against afterwards, such as the order's number and amount as JSON). ``user_id`` is the
    person who must sign: a signer refuses anyone else. ``purpose`` names the caller's use
    (``billing.purchase``), kept with the signature so that a signature made for one use is
    not taken for another. ``next_url`` is where the browser goes once signed, with
    ``signature=<reference>`` added to its query; it must be an address of this portal.
    """

    text: str
    data: bytes
    user_id: int
    purpose: str
    next_url: str


@dataclass(frozen=True)
class Signature:
    """A completed signature, as its signer keeps it: ``reference`` (unguessable, what
    ``next_url`` was given), the ``method`` (the :class:`Signer`'s key), the person who signed
    (``user_id`` and the ``signer_name`` the signing service vouched for), ``signed_at`` (aware
    UTC) and what was signed (``text``, ``data``, ``purpose``). The evidence itself (such as
    BankID's XML signature and OCSP response) stays with the signer, which can verify it
    later."""

    reference: str
    method: str
    user_id: int
    signer_name: str
    signed_at: dt.datetime
    text: str
    data: bytes
    purpose: str


StartSigning = Callable[[object, SignatureRequest], object]
FindSignature = Callable[[object, str], "Signature | None"]


@dataclass(frozen=True)
class Signer:
    """A way of signing (BankID's "Banksignering"), offered by a plugin through
    ``mypages_signers`` (since hookspec 2.4).

    ``start(request, signature_request)`` returns the response that takes the person to the
    signing (a redirect to the plugin's page); it may raise :class:`~mypages.toolkit.Refusal`
    with a translated reason (the person has no BankID linked, say). Once signed, the plugin
    sends the browser to ``signature_request.next_url`` with ``signature=<reference>``.
    ``find(dbsession, reference)`` returns the completed :class:`Signature` of that reference,
    or ``None`` (unknown, not completed, or not this signer's). A company may use the signer
    when it is entitled to every module of ``modules`` (any company when empty).
    """

    key: str
    title: TranslationString
    start: StartSigning
    find: FindSignature
    modules: tuple[str, ...] = ()

    def available_to(self, entitled_modules=frozenset()) -> bool:
        return all(key in entitled_modules for key in self.modules)


class SignInRefused(Refusal):
    """:func:`mypages.toolkit.sign_in` turned the person away (a disabled account, or a
    company that requires Single Sign On of them); shown on the error page with status 403,
    the refusal audited and no session started."""

    status = 403
    title = _("You cannot sign in this way")
    own_page = True


# -- Single Sign On -------------------------------------------------------------

class SsoRejected(Refusal):
    """An identity provider's answer is refused; ``reason`` is a short code for the audit
    trail (never a secret), ``message`` is shown to the person (a general one when None).

    A :class:`~mypages.refusals.Refusal` shown on the error page with status 403, whichever
    view it came from; the sign-in attempt is used up and the refusal audited as
    ``sso.rejected``, and nothing else the request wrote is kept."""

    status = 403
    title = _("Single Sign On did not work")
    own_page = True

    def __init__(self, reason: str, message: TranslationString | None = None):
        super().__init__(message)
        self.args = (reason,)
        self.reason = reason

    @property
    def messages(self) -> list[TranslationString]:
        return [self.message or _("The answer from your identity provider was refused. "
                                  "Try again, or ask an admin of your company.")]

    @property
    def code(self) -> str:
        return f"sso-{self.reason}"


@dataclass(frozen=True)
class FederatedIdentity:
    """Who the identity provider says signed in, after every check has passed.

    ``subject`` is the stable, immutable key of the person at the identity
    provider: Entra ID's ``tid``/``oid``, Google's ``sub``, a SAML NameID of a
    persistent format. Never an e-mail address. ``email_verified`` says the
    provider vouches for ``email`` (needed to link an existing account or to
    create one). ``groups`` are the provider's group ids; ``None`` means the
    provider could not tell (for example Entra ID's group overage), and then
    group mapping is skipped with ``groups_warning`` shown to the admins,
    never treated as "member of no group".
    """

    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str = ""
    groups: tuple[str, ...] | None = ()
    groups_warning: TranslationString | None = None


@dataclass(frozen=True)
class SsoSetting:
    """One field of a provider's connection form. ``secret`` values are encrypted at rest,
    never shown again and never written to the audit trail. ``kind`` is "text",
    "textarea" or "checkbox" (a ticked box is stored as "yes", an unticked one not at all)."""

    name: str
    label: TranslationString
    secret: bool = False
    required: bool = True
    help: TranslationString | None = None
    protocols: tuple[str, ...] = ("oidc", "saml")
    kind: str = "text"


class SsoProvider:
    """An identity provider a company can connect to (``mypages_sso_providers``).

    Subclass it; the core does the protocol work (OIDC code flow with PKCE,
    SAML 2.0 with python3-saml) and asks the provider only what differs
    between identity providers.

    ``values`` handed to the OIDC methods are the connection's settings and
    secrets, plus ``values["verified_domains"]``: the company's verified mail
    domains (read-only), for checks such as Google's ``hd`` claim.

    A provider that calls an address itself (Microsoft Graph, say) does so through
    :attr:`outbound`, never with an HTTP client of its own.
    """

    #: short key, also the session's method key ``sso:<key>``
    key: str = ""
    title: TranslationString | str = ""
    #: "oidc", "saml" or both
    protocols: tuple[str, ...] = ("oidc",)
    #: OIDC scopes to ask for
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    #: the application's outbound HTTP client (:class:`mypages.toolkit.Outbound`), set by the
    #: core when the provider is registered; it refuses addresses in internal networks
    outbound = None

    def settings(self) -> list[SsoSetting]:
        """The fields an admin fills in."""
        return []

    def check_settings(self, values: dict) -> list:
        """Translatable problems with ``values`` (empty when fine). The core checks the
        addresses it fetches itself (a SAML connection's metadata, which it reads; an OIDC
        connection's discovery address) once these are fine."""
        return []

    def discovery_url(self, values: dict) -> str:
        """OIDC: the discovery document of this connection."""
        raise NotImplementedError

    def client_id(self, values: dict) -> str:
        return values["client_id"]

    def authorize_params(self, values: dict, login_hint: str | None) -> dict:
        """OIDC: extra parameters of the authorization request."""
        return {"login_hint": login_hint} if login_hint else {}

    def check_issuer(self, values: dict, discovered_issuer: str, claims: dict) -> None:
        """OIDC: raise :class:`SsoRejected` unless ``claims["iss"]`` is right for this
        connection. The default demands the discovery document's issuer."""
        if claims.get("iss") != discovered_issuer:
            raise SsoRejected("invalid-iss")

    def identity(self, values: dict, claims: dict, userinfo: dict | None,
                 protocol: str) -> FederatedIdentity:
        """Make the verified claims (OIDC ID token claims, or SAML attributes with the
        NameID under ``"nameid"``) into a :class:`FederatedIdentity`, or raise
        :class:`SsoRejected`."""
        raise NotImplementedError

    def read_groups(self, values: dict, claims: dict,
                    access_token: str) -> tuple[str, ...] | None:
        """OIDC: asked only when :meth:`identity` returned ``groups=None`` (the token could
        not carry them, e.g. Entra ID's group overage): the group ids read from the
        provider's API with the access token, or ``None`` if they cannot be read (then
        the identity's ``groups_warning`` stands)."""
        return None
