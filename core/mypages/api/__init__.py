"""The REST API under /api/v1: company API tokens, the OpenAPI document, the operations of
the core and of every enabled plugin (docs/admin/api-tokens.rst, docs/operator/api.rst).

A request under /api/ is in a security realm of its own (``config.add_security_realm``):
its identity is the company API token in its Authorization header, never a browser's
session, whose cookie is not even read there; so it needs no CSRF token, and a signed-in
browser brings none of its rights to the API. The token's company is the request's
``request.company``; what the request audits names the token and its creator.

The document is assembled once all plugins are in: the core's operations
(:mod:`mypages.api.endpoints`) and those every plugin adds with the ``mypages_api(api)``
hook. Every request and answer is checked against it with openapi-core.
"""
from __future__ import annotations

import json

from pyramid.security import Allowed, Denied

from mypages.api.document import API_PREFIX, ApiBuilder, ApiDefinitionError, build_document
from mypages.api.problems import PROBLEM_TYPE, PROBLEMS
from mypages.api.ratelimit import RateLimits
from mypages.api.tokens import Authenticated, authenticate
from mypages.api.validation import Checked, PathMatcher, openapi_of
from mypages.api.views import ApiRequestPredicate, bearer, is_api_request
from mypages.companies import CompanyContext
from mypages.plugins import PluginError
from mypages.services import clock
from mypages.work import Actor


class ApiContext(CompanyContext):
    """The context of an API request: the token's company, read when first asked for (after
    the address's rate limit), never a membership."""

    def __init__(self, request):
        self._request = request
        self.membership = None

    @property
    def auth(self) -> Authenticated | None:
        return self._request.api_auth

    @property
    def company(self):
        auth = self.auth
        return auth.company if auth is not None else None

    @property
    def entitled_modules(self) -> frozenset[str]:
        auth = self.auth
        return auth.entitled_modules if auth is not None else frozenset()

    def permits(self, user, permission: str) -> bool:
        return False  # nobody's session has rights here


class TokenSecurityPolicy:
    """The API's realm: identity is the token, permissions are its scopes."""

    def identity(self, request):
        return request.api_auth

    def authenticated_userid(self, request):
        auth = request.api_auth
        return f"api-token:{auth.token.id}" if auth is not None else None

    def permits(self, request, context, permission):
        auth = request.api_auth
        if auth is None:
            return Denied("no API token")
        if permission in auth.token.scopes:
            return Allowed(permission)
        return Denied(f"the token lacks {permission}")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def api_auth(request) -> Authenticated | None:
    """``request.api_auth``: the good token of an API request's Authorization header."""
    if not is_api_request(request):
        return None
    return authenticate(request, bearer(request), clock(request).now())


def request_actor(request) -> Actor | None:
    """Who an API request acts for: the token's creator, with the token."""
    if not is_api_request(request):
        return None
    auth = request.api_auth
    if auth is None:
        return None
    return Actor(auth.token.created_by, request.client_addr or "", api_token_id=auth.token.id)


class Published:
    """The API as published: operations by (path, method), the document, its checker."""

    def __init__(self, registry, builder: ApiBuilder):
        self.prefix = API_PREFIX
        self.builder = builder
        self.operations = {(op.path, op.method): op for op in builder.operations}
        self.document = build_document(builder)
        self.openapi = openapi_of(self.document)
        self.matcher = PathMatcher({path for path, _method in self.operations})
        self.rate_limits = RateLimits(registry)
        self.checked = Checked()
        self._served: dict = {}

    def served(self, localizer, script_name: str) -> str:
        """The document as served: texts in the localizer's language, the server's address
        under the application's."""
        key = (localizer.locale_name, script_name)
        found = self._served.get(key)
        if found is None:
            found = self._served[key] = json.dumps(
                build_document(self.builder, localizer.translate, script_name + API_PREFIX),
                ensure_ascii=False, indent=1)
        return found

    def problem_table(self, localizer) -> list[tuple[str, int, str]]:
        return [(PROBLEM_TYPE + code, status, localizer.translate(title))
                for code, (status, title) in PROBLEMS.items()]


def publish(registry) -> None:
    """Assemble the document from the core's operations and every plugin's, once all are in."""
    pm = registry["plugins.manager"]
    builder = ApiBuilder()
    catalogue = registry["modules.catalogue"]
    for impl in reversed(pm.hook.mypages_api.get_hookimpls()):
        builder.owner = "core" if impl.plugin_name.startswith("core.") else impl.plugin_name
        try:
            impl.function(**{name: builder for name in impl.argnames})
        except ApiDefinitionError as exc:
            raise PluginError(impl.plugin_name, f"mypages_api: {exc}") from exc
    for operation in builder.operations:
        if operation.scope not in builder.scopes:
            raise PluginError(operation.owner, f"mypages_api: {operation.operation_id} needs "
                              f"the scope {operation.scope!r}, which nobody added")
        if operation.module is not None and catalogue.get(operation.module) is None:
            raise PluginError(operation.owner, f"mypages_api: {operation.operation_id} "
                              f"belongs to the module {operation.module!r}, which no plugin "
                              "offers")
    registry["api.published"] = Published(registry, builder)


def known_scopes(registry) -> dict:
    """Every scope a token may be given, with its description."""
    return registry["api.published"].builder.scopes


def includeme(config):
    config.add_view_predicate("api_request", ApiRequestPredicate)
    config.add_security_realm(is_api_request, TokenSecurityPolicy())
    config.set_request_actor(request_actor)
    config.add_request_method(api_auth, "api_auth", reify=True)
    config.register_core_hooks("core.api", "mypages.api.hooks")
    config.on_plugins_ready(publish)
    config.add_route("api_document", API_PREFIX + "/openapi.json")
    config.add_route("api_reference", API_PREFIX + "/reference")
    config.add_route("api", API_PREFIX + "/*rest", factory=ApiContext)
    config.add_company_route("company_api_tokens", "/settings/api")
    config.add_company_route("company_api_token_revoke", "/settings/api/{token_id}/revoke")
    config.scan(".views")
    config.scan(".pages")

