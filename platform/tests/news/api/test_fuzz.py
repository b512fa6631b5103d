"""Schema-driven fuzzing: every operation of the OpenAPI schema, with generated valid
and invalid input, must answer without a server error and as its schema says."""

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from news.models import Story, User
from platform_layer.wsgi import application
from signins import assertions

AUTHORIZATION = {"Authorization": f"Bearer {settings.PLATFORM_API_TOKEN}"}
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, headers=AUTHORIZATION)


@pytest.fixture
def member(db) -> User:
    member = User.objects.create(username="fuzzer", name="Fuzzer")
    Story.objects.create(author=member, title="Fuzzed", url="https://example.com")
    return member


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests go straight into the WSGI app; Django would close the test's database
    connection when each one finishes (as Django's own test client prevents)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_input_makes_the_api_fail(case, member):
    case.call_and_validate(
        headers={**AUTHORIZATION, "X-Member-Assertion": assertions.issue(member.pk)},
        checks=[schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance],
    )
