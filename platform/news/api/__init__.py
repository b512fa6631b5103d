"""Version 1 of the platform's JSON API: what every product (the web tier, its public
API, a command-line client) reads and writes through. The OpenAPI schema is
generated from the routers' signatures at /api/v1/openapi.json.

This package only translates HTTP: each router module holds one resource's schemas
and routes, declares who may call each route (news.api.auth), and hands the work to
the domain modules (news.members, news.stories, ...). Their refusals become 4xx
answers with a reason (news.api.errors).
"""

from ninja import NinjaAPI
from ninja.operation import Operation

from news.api import analytics, errors, exports, follows, members, ops, stories, timelines
from news.api.renderer import ORJSONRenderer


class PlatformAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Operation ids are the handlers' names, prefixed as they were when the API was
        one module (news_api_<handler>), so that generated clients keep working."""
        return f"news_api_{operation.view_func.__name__}"


api = PlatformAPI(
    title="Platform API",
    version="1",
    description=(
        "The platform layer of the reference deployment: one API, several products. "
        "Every write (POST, PUT, PATCH, DELETE) may carry an `Idempotency-Key` header: "
        "sent again with the same key, it happens once and answers as the first time."
    ),
    urls_namespace="api-v1",
    renderer=ORJSONRenderer(),
)
errors.install(api)
for resource in (members, follows, stories, timelines, exports, analytics, ops):
    api.add_router("", resource.router)
