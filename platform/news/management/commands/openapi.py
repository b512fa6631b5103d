"""Print the platform API's OpenAPI schema, as /api/v1/openapi.json serves it.

python manage.py openapi > openapi-v1.json     # `make openapi`
"""

import json
from typing import Any

from django.core.management.base import BaseCommand

from news.api import api


class Command(BaseCommand):
    help = "Print the platform API's OpenAPI schema (JSON, keys sorted)."

    def handle(self, *args: Any, **options: Any) -> None:
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
        self.stdout.write(json.dumps(schema, indent=1, sort_keys=True))
