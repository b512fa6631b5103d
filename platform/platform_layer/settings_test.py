"""Settings for the unit tests: the stack's real services, kept apart from live data.

pytest-django creates a throw-away database (test_<name>); the cache uses another
Redis database number, so tests never write into the live site's cache.
"""

from platform_layer.settings import *  # noqa: F403
from platform_layer.settings import env

# The same server and user as the live site, another database number.
REDIS_URL = env("TEST_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/15")  # noqa: F405

# The tests' own RabbitMQ virtual host (the migrate service creates it: create_broker_users).
TEST_VHOST = "tests"
BROKER_URL = BROKER_URL.rsplit("/", 1)[0] + "/" + TEST_VHOST  # noqa: F405
