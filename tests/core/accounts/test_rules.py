"""What accounts asks of the layers above it: the sign-in rules and the identifier-first routes,
handed down at start-up rather than imported."""
from types import SimpleNamespace

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

from mypages.accounts.password_policy import PLATFORM_MIN_LENGTH
from mypages.accounts.rules import SignInRules, identifier_first, sign_in_rules
from mypages.policy.rules import PolicyRules
from mypages.sso.flow import identifier_first as single_sign_on_route


class Closed(SignInRules):
    def password_allowed(self, dbsession, user_id):
        return False


def close_passwords(config):
    config.set_sign_in_rules(Closed())


def keep_the_platforms_rules(config):
    config.set_sign_in_rules(SignInRules())


def accounts_alone(*includes):
    config = Configurator(settings={})
    config.include("mypages.accounts.rules")
    for include in includes:
        config.include(include)
    return config


def test_alone_accounts_answers_with_the_platforms_rules():
    config = accounts_alone()
    config.commit()
    rules = sign_in_rules(config.registry)

    assert rules.password_allowed(None, 1) is True
    assert rules.min_password_length(None, 1) == PLATFORM_MIN_LENGTH
    assert rules.min_password_length(None, None, company_id=7) == PLATFORM_MIN_LENGTH
    assert rules.second_factor_required_by(SimpleNamespace()) is None


def test_the_rules_set_at_start_up_answer_from_then_on():
    config = accounts_alone(close_passwords)
    config.commit()

    assert sign_in_rules(config.registry).password_allowed(None, 1) is False


def test_only_one_layer_may_set_the_rules():
    config = accounts_alone(close_passwords, keep_the_platforms_rules)

    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_an_address_goes_to_the_first_route_that_takes_it():
    asked = []

    def elsewhere(request, email, next_url):
        asked.append(("elsewhere", email, next_url))
        return None

    def ours(request, email, next_url):
        asked.append(("ours", email, next_url))
        return "to the identity provider" if email.endswith("@ours.example") else None

    config = accounts_alone()
    config.add_identifier_first_route(elsewhere)
    config.add_identifier_first_route(ours)
    request = SimpleNamespace(registry=config.registry)

    assert identifier_first(request, "anna@ours.example", "/next") == "to the identity provider"
    assert asked == [("elsewhere", "anna@ours.example", "/next"),
                     ("ours", "anna@ours.example", "/next")]
    assert identifier_first(request, "bo@other.example", "") is None


def test_without_routes_the_sign_in_page_asks_for_the_password():
    request = SimpleNamespace(registry=accounts_alone().registry)

    assert identifier_first(request, "anna@ours.example", "") is None


def test_the_app_hands_accounts_the_policys_rules_and_single_sign_ons_route(app):
    assert isinstance(sign_in_rules(app.registry), PolicyRules)
    assert app.registry["accounts.identifier_first_routes"] == [single_sign_on_route]
