"""What accounts asks of the layers above it: the sign-in rules, and identifier-first routes.

accounts knows people's accounts, not the companies they belong to, so its pages ask here
what only a layer above knows, and each such layer hands its answer down at start-up:

- the sign-in policy (core/mypages/policy/) sets the :class:`SignInRules` with
  ``config.set_sign_in_rules(...)``: whether a company of the person closed password sign-in,
  the longest minimum length their companies ask for, who requires a second factor of them,
  which modules a company of theirs is entitled to;
- Single Sign On (core/mypages/sso/) adds an identifier-first route with
  ``config.add_identifier_first_route(...)``: the e-mail address typed on the sign-in page,
  without a password, may lead straight to the person's identity provider.

Without them, accounts stands alone: every password sign-in is open, the platform's floor is
the minimum length, nobody requires a second factor, and the sign-in page asks for the
password.
"""
from __future__ import annotations

from typing import Callable

from mypages.accounts.password_policy import PLATFORM_MIN_LENGTH

RULES_KEY = "accounts.sign_in_rules"
ROUTES_KEY = "accounts.identifier_first_routes"


class SignInRules:
    """The platform's rules alone; the sign-in policy replaces them with its own."""

    def password_allowed(self, dbsession, user_id: int) -> bool:
        """Whether the user may sign in, and reset their password, with a password."""
        return True

    def min_password_length(self, dbsession, user_id: int | None,
                            company_id: int | None = None) -> int:
        """The shortest password the user ``user_id`` may choose (None: an invitee without an
        account yet), joining the company ``company_id`` if given."""
        return PLATFORM_MIN_LENGTH

    def entitled_modules(self, dbsession, user_id: int, company_id: int,
                         now) -> frozenset[str] | None:
        """The modules company ``company_id`` is entitled to at ``now``, if the user is one of
        its members (a method from a module counts as a second factor only there); None when
        they are not, or nobody above accounts knows companies."""
        return None

    def second_factor_required_by(self, request) -> str | None:
        """Who requires a second factor of the signed-in user, so that it cannot be turned off:
        ``"operator"``, ``"platform"`` or ``"company"``; None: nobody."""
        return None


#: ``route(request, email, next_url)``: a response that starts signing ``email`` in
#: elsewhere, or None
IdentifierFirstRoute = Callable[[object, str, str], object]


def sign_in_rules(registry) -> SignInRules:
    return registry[RULES_KEY]


def identifier_first(request, email: str, next_url: str):
    """The response of the first identifier-first route that takes ``email``, else None."""
    for route in request.registry[ROUTES_KEY]:
        response = route(request, email, next_url)
        if response is not None:
            return response
    return None


def set_sign_in_rules(config, rules: SignInRules) -> None:
    """Directive: ``rules`` answer accounts' questions from now on (one layer may set them)."""

    def register():
        config.registry[RULES_KEY] = rules

    config.action(RULES_KEY, register)


def add_identifier_first_route(config, route: IdentifierFirstRoute) -> None:
    """Directive: ``route`` is asked, after those added before it, where an e-mail address
    typed without a password signs in."""
    config.registry[ROUTES_KEY].append(route)


def includeme(config):
    config.registry[RULES_KEY] = SignInRules()
    config.registry[ROUTES_KEY] = []
    config.add_directive("set_sign_in_rules", set_sign_in_rules)
    config.add_directive("add_identifier_first_route", add_identifier_first_route)
