"""What the unit tests of the platform (its consumers included) need of the stack.

Tests use the stack's real RabbitMQ, in a virtual host of their own, as they use a
database and a Redis database of their own: nothing they publish reaches the live
consumers, and nothing live reaches them.
"""

from urllib.parse import quote, urlsplit

import requests
from django.conf import settings


def ensure_test_vhost() -> None:
    """Create the tests' virtual host (settings_test.BROKER_URL) and let the user use it."""
    broker = urlsplit(settings.BROKER_URL)
    user, password = broker.username or "guest", broker.password or "guest"
    vhost = quote(broker.path.lstrip("/"), safe="")
    auth = (user, password)
    api = settings.RABBITMQ_API_URL
    for url, body in (
        (f"{api}/vhosts/{vhost}", {}),
        (
            f"{api}/permissions/{vhost}/{quote(user, safe='')}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        ),
    ):
        response = requests.put(url, json=body, auth=auth, timeout=10)
        response.raise_for_status()
