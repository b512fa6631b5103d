"""gunicorn settings for a web node. https://docs.gunicorn.org/en/stable/settings.html"""

import os
import shutil
from pathlib import Path

bind = "0.0.0.0:8000"

# Prometheus (web.metrics): each worker process counts in its own files here and /metrics
# adds them up (prometheus_client's multiprocess mode). Set here, before any worker
# imports the client; emptied at start, so that no count of an earlier run remains.
PROMETHEUS_MULTIPROC_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"] = "/tmp/prometheus"


def on_starting(server):
    shutil.rmtree(PROMETHEUS_MULTIPROC_DIR, ignore_errors=True)
    os.makedirs(PROMETHEUS_MULTIPROC_DIR)


def child_exit(server, worker):
    """A worker gone (restarted, killed): its gauges go; its counts stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Rendering is CPU work and platform calls are I/O waits: a few workers, a few threads each.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# On SIGTERM (docker stop), finish in-flight requests for up to this long, then exit.
graceful_timeout = 20
timeout = 30
# HAProxy keeps idle connections to this node for reuse and closes them itself
# (half of them every `pool-purge-delay`, 5 s). The side that closes an idle
# connection must be the one that would reuse it: were gunicorn to close first, it
# could close one just as HAProxy sends a request on it.
keepalive = 30
# A line per request, off by default: the balancer in front logs every request already,
# with the node that served it and its timings (make logs SERVICE=edge-lb). Under load
# the node's own line cost it about a fifth of its CPU, and dockerd as much again to
# collect it (bench/report.md). ACCESS_LOG=on in .env brings it back.
accesslog = "-" if os.environ.get("ACCESS_LOG", "off") == "on" else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# make dev (compose.dev.yml): restart the workers when the mounted code changes,
# templates included (gunicorn watches only Python modules by itself).
# https://docs.gunicorn.org/en/stable/settings.html#reload
reload = os.environ.get("RELOAD_ON_CHANGE") == "1"
reload_extra_files = [str(path) for path in Path("web/templates").rglob("*.html")] if reload else []
