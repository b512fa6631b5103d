"""The OpenAPI schema: generated from the routers, and the contract products rely on.

openapi-v1.json beside this file is the schema as it was published. A change to
the API that changes the schema fails here, on purpose: if it is meant, write the
new schema with `make openapi` and say in the change what clients must do.
"""

import json
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).with_name("openapi-v1.json")

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_is_generated_from_the_code(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/stories" in schema["paths"]


def test_the_schema_is_the_published_one(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert schema == json.loads(PUBLISHED.read_text()), (
        "The API's schema changed. If that is meant: make openapi, and review the diff."
    )
