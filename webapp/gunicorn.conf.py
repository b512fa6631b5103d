"""gunicorn settings for a web node. https://docs.gunicorn.org/en/stable/settings.html"""

import os

bind = "0.0.0.0:8000"
# Rendering is CPU work and platform calls are I/O waits: a few workers, a few threads each.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# On SIGTERM (docker stop), finish in-flight requests for up to this long, then exit.
graceful_timeout = 20
timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
