"""The OpenAPI schema: generated from the routers, and the contract products rely on.

platform/openapi-v1.json is the schema as it is published (a developer reads it
there: the live one needs the API token). A change to the API that changes the
schema fails here, on purpose: if it is meant, write the new schema with
`make openapi` and say in the change what clients must do.
"""

import json
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).resolve().parents[3] / "openapi-v1.json"  # platform/

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_is_generated_from_the_code(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/stories" in schema["paths"]


def test_the_schema_is_the_published_one(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert schema == json.loads(PUBLISHED.read_text()), (
        "The API's schema changed. If that is meant: make openapi, and review the diff."
    )
