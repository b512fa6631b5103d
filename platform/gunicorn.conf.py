"""gunicorn settings for a platform node. https://docs.gunicorn.org/en/stable/settings.html"""

import os

bind = "0.0.0.0:8000"
# Two cores on the reference laptop: a few sync workers per node, threads for I/O waits.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# On SIGTERM, finish in-flight requests for up to this long before exiting.
graceful_timeout = 20
timeout = 30
# Keep-alive longer than nothing, shorter than HAProxy's `timeout http-keep-alive`.
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
