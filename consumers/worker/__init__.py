"""Celery consumers: the off-line half of the platform (the article's queue consumers).

They share the platform's Django models and its message contract (jobqueue).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_layer.settings")
django.setup()

from jobqueue import make_app  # noqa: E402  (Django must be set up before tasks import models)

app = make_app()
app.autodiscover_tasks(["worker"], related_name="tasks", force=True)
