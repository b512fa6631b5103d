"""The analytics consumer: a Celery worker on the `analytics` queue, in the analytics
image (the platform's, with Java and Spark), where it is the Spark driver.

    celery --app mapreduce.worker worker --queues analytics --concurrency 1

One job at a time, each in a fresh process (--max-tasks-per-child 1): a Spark driver's
JVM is started per run and gone with it.
"""

import os

from jobqueue import make_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_layer.settings")

app = make_app()
app.conf.worker_consumer = "jobs.worker:DeadLetteringConsumer"
app.autodiscover_tasks(["mapreduce"], related_name="tasks")
