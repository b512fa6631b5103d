"""Off-line processing: cron only publishes; a consumer takes the message from
RabbitMQ and records its work in Postgres, which the platform reports."""

import requests

from stack import compose, psql, wait_for


def test_a_job_published_by_cron_is_consumed(edge):
    # The very command the cron table runs every minute.
    output = compose("exec", "-T", "cron", "publish-job", "heartbeat").stdout
    slot = output.strip().rsplit(" ", 1)[-1]
    assert slot.endswith("+00:00"), output

    def consumed() -> dict | None:
        runs = requests.get(f"{edge}/status.json", timeout=10).json()["last_runs"]
        return next((run for run in runs if run["job"] == "heartbeat" and run["slot"] >= slot[:19]), None)

    run = wait_for(consumed, timeout=60, what="the consumer to record the heartbeat")
    assert run["consumed_by"], "the consumer names itself"
    assert psql(f"SELECT count(*) FROM jobs_jobrun WHERE job = 'heartbeat' AND slot = '{slot}'") == "1"


def test_the_cron_daemon_runs_with_the_job_table():
    table = compose("exec", "-T", "cron", "cat", "/etc/cron.d/scale-jobs").stdout
    assert "publish-job heartbeat" in table
    assert "BROKER_URL=amqp://" in table
    compose("exec", "-T", "cron", "sh", "-c", 'kill -0 "$(cat /var/run/crond.pid)"')


def test_an_unknown_job_is_a_clear_cli_error():
    result = compose("exec", "-T", "cron", "publish-job", "no-such-job", check=False)
    assert result.returncode == 2
    assert "unknown job 'no-such-job'; known jobs: heartbeat" in result.stderr
    assert "Traceback" not in result.stderr


def test_running_the_one_shot_migrate_again_duplicates_nothing():
    before = psql("SELECT count(*) FROM news_user")
    result = compose("run", "--rm", "--no-deps", "migrate", timeout=300)
    assert "already loaded" in result.stdout
    assert psql("SELECT count(*) FROM news_user") == before
