from django.http import HttpRequest, JsonResponse
from django.urls import path

from news.api import api
from platform_layer import bodies, health, metrics


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. What the load balancer checks."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: Postgres, Redis and RabbitMQ answer from this node."""
    checks = health.readiness()
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Prometheus' door, on the internal networks only.
    path("metrics", metrics.export, name="metrics"),
    path("api/v1/", api.urls),
]

# Django's own refusals (a body too large, a malformed one) answer in JSON, with a reason.
handler400 = bodies.bad_request
