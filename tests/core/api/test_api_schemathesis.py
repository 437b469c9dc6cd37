"""Schemathesis against the served OpenAPI document: every operation, with a valid token,
positive and negative examples, and stateful runs following the document's links. No answer
may be a server error or break the document.

Bounded and deterministic (a fixed number of examples per operation, derandomized), so it
stays a few seconds of ``make test``.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from mypages.testing.api import lift_rate_limits, served_schema

SCOPES = ["company:read", "members:read", "modules:read", "modules:write", "notes:read",
          "notes:write"]
EXAMPLES = 15


@pytest.fixture
def api_token(app, factory, monkeypatch, dbsession):
    """A company entitled to the notes module, with people and notes, and a token with every
    scope; limits high enough for the run."""
    lift_rate_limits(app, monkeypatch)
    company = factory.company("Fuzz AB")
    admin = factory.user(company=company, role="admin")
    for _ in range(3):
        factory.user(company=company)
    return factory.api_token(company, SCOPES, created_by=admin)


SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def excluded(case) -> list:
    """A cursor is signed: one the document cannot tell from a real one is refused, rightly."""
    return [checks.positive_data_acceptance] if "cursor" in (case.query or {}) else []


ONE_DATABASE = pytest.mark.only_database(
    "sqlite", "the answers' shapes do not depend on the database, and the other API tests "
    "run on both")


@ONE_DATABASE
def test_every_operation_keeps_to_the_document(app, api_token):
    """Positive and negative examples of every operation. (Schemathesis's own pytest
    plugin does not run on this pytest, so each operation's strategy is run here.)"""
    schema = served_schema(app, api_token)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        for mode in GenerationMode:
            @given(case=operation.as_strategy(generation_mode=mode))
            @SETTINGS
            def run(case):
                case.call_and_validate(excluded_checks=excluded(case))

            run()


@ONE_DATABASE
def test_stateful_runs_follow_the_links(app, api_token):
    """Sequences of calls, each fed by an earlier answer where the document links them (a
    module's trial started, then the module deactivated)."""
    schema = served_schema(app, api_token)

    class Machine(schema.as_state_machine()):
        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, additional_checks=additional_checks,
                                   excluded_checks=excluded(case),
                                   transport_kwargs=kwargs or None, recorder=self.recorder)

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=6, derandomize=True, deadline=None,
        database=None, suppress_health_check=list(HealthCheck)))
