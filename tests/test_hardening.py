"""Least privilege, checked on the running containers: what each may do is what it
needs, so that one broken into, or one credential leaked, reaches little."""

import json
import stat
import subprocess

import pytest

from stack import ROOT, compose

# Containers whose root file system is read-only (docker-compose.yml: read_only).
READ_ONLY = {
    "edge-lb", "web1", "web2", "web3", "platform-lb", "platform1", "platform2", "db-lb",
    "postgres1", "postgres2", "postgres3", "etcd1", "etcd2", "etcd3", "redis", "redis-locks", "relay",
    "consumer", "export-consumer", "click-consumer", "cron1", "cron2", "cdn", "postgres1-exporter",
    "postgres2-exporter", "postgres3-exporter", "redis-exporter",
}  # fmt: skip


def containers() -> dict[str, dict]:
    """Service name -> `docker inspect` of its running container."""
    ids = compose("ps", "--quiet").stdout.split()
    inspected = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True)
    return {
        container["Config"]["Labels"]["com.docker.compose.service"]: container
        for container in json.loads(inspected.stdout)
    }


@pytest.fixture(scope="module")
def running(stack) -> dict[str, dict]:
    return containers()


def test_every_long_running_container_drops_its_capabilities_and_gains_no_privileges(running):
    assert len(running) >= 20, sorted(running)
    for service, container in running.items():
        host = container["HostConfig"]
        assert host["CapDrop"] == ["ALL"], f"{service} keeps Docker's default capabilities"
        assert "no-new-privileges:true" in (host["SecurityOpt"] or []), f"{service} may gain privileges"
        assert host["PidsLimit"] and host["PidsLimit"] > 0, f"{service} may start any number of processes"
        assert host["Memory"] > 0, f"{service} has no memory limit"


def test_services_that_need_not_write_run_on_a_read_only_root(running):
    for service in READ_ONLY & running.keys():
        assert running[service]["HostConfig"]["ReadonlyRootfs"], f"{service} can write to its image"
    assert running.keys() >= READ_ONLY, f"not running: {READ_ONLY - running.keys()}"


ROLE = (
    "import json; from django.db import connection; cursor = connection.cursor(); "
    "cursor.execute('SELECT rolsuper, rolcreatedb, rolcreaterole, current_user FROM pg_roles "
    "WHERE rolname = current_user'); print(json.dumps(cursor.fetchone()))"
)


def test_the_platform_connects_to_postgres_as_a_role_that_is_not_a_superuser():
    answer = compose("exec", "-T", "platform1", "python", "manage.py", "shell", "-c", ROLE).stdout
    superuser, createdb, createrole, name = json.loads(answer.strip().splitlines()[-1])
    assert (superuser, createdb, createrole) == (False, False, False), name


def test_the_platforms_role_may_not_change_the_schema():
    ddl = "from django.db import connection; connection.cursor().execute('CREATE TABLE intruder (id int)')"
    result = compose("exec", "-T", "platform1", "python", "manage.py", "shell", "-c", ddl, check=False)
    assert result.returncode != 0
    assert "permission denied" in result.stderr


def test_redis_answers_no_command_but_ping_without_a_password():
    assert compose("exec", "-T", "redis", "redis-cli", "ping").stdout.strip() == "PONG"
    for server in ("redis", "redis-locks"):
        refused = compose("exec", "-T", server, "redis-cli", "get", "anything").stdout
        assert "NOPERM" in refused, server


BROKER_API = """
import os, urllib.error, urllib.request
from urllib.parse import urlsplit
broker = urlsplit(os.environ["BROKER_URL"])
request = urllib.request.Request("http://rabbitmq:15672/api/overview")
manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
manager.add_password(None, "http://rabbitmq:15672/", broker.username, broker.password)
try:
    urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(manager)).open(request, timeout=10)
    print(200)
except urllib.error.HTTPError as error:
    print(error.code)
"""


def test_the_applications_rabbitmq_user_cannot_use_the_management_api():
    answer = compose("exec", "-T", "relay", "python", "-c", BROKER_API).stdout.strip()
    assert answer == "401"


def test_cron_runs_its_jobs_as_an_unprivileged_user():
    table = compose("exec", "-T", "cron1", "cat", "/etc/cron.d/scale-jobs").stdout
    jobs = [line.split() for line in table.splitlines() if line[:1] in "0123456789*"]
    assert jobs and {job[5] for job in jobs} == {"app"}


def test_the_env_file_is_readable_by_its_owner_only():
    assert stat.S_IMODE((ROOT / ".env").stat().st_mode) & 0o077 == 0
