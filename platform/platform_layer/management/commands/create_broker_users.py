"""Create (or bring up to date) RabbitMQ's users, least privilege, through its HTTP API.

Run by the `migrate` service at every start, as RabbitMQ's administrator (RABBITMQ_USER,
whom the image creates on first boot and who is then only the management UI's):

- the application user (RABBITMQ_APP_USER): publishes and consumes on the `/` virtual
  host, and on the unit tests' own one; it may not log in to the management UI or API.
- the monitoring user (RABBITMQ_MONITOR_USER): reads queue depths through the API
  (the platform's /status); the `monitoring` tag, and access to the virtual hosts
  with permissions that match no resource, so it can neither publish nor consume.

Idempotent: a password changed in .env takes effect at the next start.
https://www.rabbitmq.com/docs/access-control
"""

import os
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# The unit tests' virtual host (platform_layer.settings_test).
TEST_VHOST = "tests"
EVERYTHING = {"configure": ".*", "write": ".*", "read": ".*"}
NOTHING = {"configure": "^$", "write": "^$", "read": "^$"}


class Command(BaseCommand):
    help = "Create or update RabbitMQ's application and monitoring users (least privilege)."

    def handle(self, *args: object, **options: object) -> None:
        admin = (self.setting("RABBITMQ_USER"), self.setting("RABBITMQ_PASSWORD"))
        app, monitor = self.setting("RABBITMQ_APP_USER"), self.setting("RABBITMQ_MONITOR_USER")
        app_path, monitor_path = quote(app, safe=""), quote(monitor, safe="")
        app_password = self.setting("RABBITMQ_APP_PASSWORD")
        monitor_password = self.setting("RABBITMQ_MONITOR_PASSWORD")
        calls = [
            (f"users/{app_path}", {"password": app_password, "tags": ""}),
            (f"vhosts/{TEST_VHOST}", {}),
            (f"permissions/%2F/{app_path}", EVERYTHING),
            (f"permissions/{TEST_VHOST}/{app_path}", EVERYTHING),
            (f"users/{monitor_path}", {"password": monitor_password, "tags": "monitoring"}),
            (f"permissions/%2F/{monitor_path}", NOTHING),
            (f"permissions/{TEST_VHOST}/{monitor_path}", NOTHING),
        ]
        for path, body in calls:
            response = requests.put(f"{settings.RABBITMQ_API_URL}/{path}", json=body, auth=admin, timeout=10)
            if response.status_code not in (201, 204):
                answer = f"{response.status_code} {response.text[:200]}"
                raise CommandError(f"RabbitMQ refused PUT /api/{path}: {answer}")
        self.stdout.write(f"RabbitMQ users ready: {app} (publishes, consumes), {monitor} (queue depths).")

    @staticmethod
    def setting(variable: str) -> str:
        value = os.environ.get(variable, "")
        if not value:
            raise CommandError(f"Set {variable} (see .env.example; `make env` generates passwords).")
        return value
