"""Helpers to drive and inspect the running stack from the host."""

import json
import os
import re
import struct
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def compose_command(*args: str) -> list[str]:
    command = ["docker", "compose", "--project-directory", str(ROOT), "--env-file", str(ROOT / ".env")]
    if os.environ.get("OFFLINE"):
        command += ["--env-file", str(ROOT / "offline" / "images.env")]
    return [*command, *args]


def make(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a make target as a user would (with the images the tests run on)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args, f"OFFLINE={os.environ.get('OFFLINE', '')}"],
        capture_output=True, text=True, check=check, timeout=timeout,
    )  # fmt: skip


class ComposeError(subprocess.CalledProcessError):
    """A failed compose command, whose message includes what it printed on stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.stderr}"


def compose(
    *args: str, check: bool = True, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `docker compose ARGS` for this project and return the finished process.
    `env` overrides variables of .env (the shell's environment wins over it)."""
    result = subprocess.run(
        compose_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise ComposeError(result.returncode, result.args, result.stdout, result.stderr)
    return result


def wait_for(condition: Callable[[], Any], timeout: float = 60, interval: float = 0.5, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except (requests.RequestException, subprocess.CalledProcessError) as exc:
            last_error = exc
        time.sleep(interval)
    pytest.fail(
        f"timed out after {timeout}s waiting for {what or condition.__name__} (last error: {last_error})"
    )


# How each way of breaking a container is undone, as `make start` and `make unpause` do
# (`up --no-deps` starts the container alone: `compose start` would run migrate again).
MENDS = {
    "kill": ("up", "--detach", "--no-deps", "--no-recreate", "--no-build"),
    "stop": ("up", "--detach", "--no-deps", "--no-recreate", "--no-build"),
    "pause": ("unpause",),
}


# RabbitMQ's three nodes: `broken(BROKER, ...)` takes the whole broker away.
BROKER = ("rabbitmq1", "rabbitmq2", "rabbitmq3")


class Breakage:
    """Containers broken on purpose: when, and whether they have been mended yet."""

    def __init__(self, services: tuple[str, ...], how: str) -> None:
        self.services, self.how = services, how
        self.broken_at = time.monotonic()
        self.mended_at: float | None = None

    def mend(self) -> None:
        if self.mended_at is None:
            compose(*MENDS[self.how], *self.services)
            self.mended_at = time.monotonic()


@contextmanager
def broken(service: str | tuple[str, ...], how: str) -> Iterator[Breakage]:
    """`service` (or several: BROKER) broken (`kill`, `stop` or `pause`) for the block
    and mended when it ends, whatever happens inside, then waited for until healthy
    again, so that no test leaves a container down, or still starting, for the tests
    after it. Call `.mend()` inside the block to watch the recovery."""
    services = (service,) if isinstance(service, str) else service
    breakage = Breakage(services, how)
    try:
        compose(how, *services)
        yield breakage
    finally:
        breakage.mend()
        wait_for(lambda: healthy(*services), timeout=180, what=f"{', '.join(services)} healthy again")


def missing_images() -> list[str]:
    """The images of the stack (every profile's) that are not built yet."""
    images = compose("--profile", "loadtest", "config", "--images").stdout.split()
    return [
        image
        for image in sorted(set(images))
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0
    ]


def healthy(*services: str) -> bool:
    """Whether every named service's containers are running and healthy."""
    rows = [
        json.loads(line) for line in compose("ps", "--format", "json", *services).stdout.splitlines() if line
    ]
    return {row["Service"] for row in rows if row.get("Health") == "healthy"} == set(services)


# Who the tests are on each Redis server (its ACL users: docker-compose.yml).
REDIS_USERS = {"redis": ("platform", "REDIS_PASSWORD"), "redis-locks": ("cron", "REDIS_LOCKS_PASSWORD")}


def redis_cli(server: str, *args: str) -> str:
    """A redis-cli command on one of the stack's Redis servers, as the user the stack
    gives that server's clients; its output."""
    user, password = REDIS_USERS[server]
    auth = f"REDISCLI_AUTH={env_value(password)}"
    return compose("exec", "-T", "-e", auth, server, "redis-cli", "--user", user, *args).stdout


def env_value(name: str) -> str:
    """A variable of the stack's .env (credentials of the admin UIs, for example)."""
    for line in (ROOT / ".env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    raise KeyError(f"{name} is not set in .env")


def published(service: str, port: int) -> str:
    """The host address a service's port is published on, e.g. 127.0.0.1:8080."""
    address = compose("port", service, str(port)).stdout.strip()
    host, _, host_port = address.rpartition(":")
    return f"{'127.0.0.1' if host in ('0.0.0.0', '::', '[::]') else host}:{host_port}"


# The Postgres cluster's members (docker-compose.yml), one of them the primary.
POSTGRES_MEMBERS = ("postgres1", "postgres2", "postgres3")
PATRONICTL = ("patronictl", "--config-file", "/etc/patroni/patroni.yml")


def in_a_running_member(*command: str) -> str:
    """Run a command in the first Postgres member whose container runs (any may be
    down in a drill); its output."""
    for member in POSTGRES_MEMBERS:
        result = compose("exec", "-T", member, *command, check=False)
        if result.returncode == 0:
            return result.stdout.strip()
        if "is not running" not in result.stderr:
            raise ComposeError(result.returncode, result.args, result.stdout, result.stderr)
    raise AssertionError("no Postgres member container is running")


def postgres_members() -> dict[str, dict[str, Any]]:
    """Member name -> Patroni's view of it (Role: Leader, Quorum Standby...; State;
    TL: timeline; Lag in MB)."""
    listed = in_a_running_member(*PATRONICTL, "list", "--format", "json")
    return {row["Member"]: row for row in json.loads(listed)}


def primary() -> str:
    """The member that is the primary now (Patroni's leader)."""
    leaders = [name for name, row in postgres_members().items() if row["Role"] == "Leader"]
    assert len(leaders) == 1, f"not one leader: {leaders}"
    return leaders[0]


def replicas() -> list[str]:
    """The members streaming from the primary now."""
    members = postgres_members().items()
    return sorted(name for name, row in members if row["Role"] != "Leader" and row["State"] == "streaming")


def psql(sql: str, member: str | None = None) -> str:
    """Run one SQL statement as the database's owner and return its unaligned output: on
    the primary, through the write pool as the platform reaches it (from the first member
    container that runs), or on the named member itself."""
    command = 'psql -v ON_ERROR_STOP=1 -qtA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$0"'
    if member is not None:
        return compose("exec", "-T", member, "sh", "-c", command, sql).stdout.strip()
    through_the_write_pool = f'PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" {command} -h db-lb -p 9002'
    return in_a_running_member("sh", "-c", through_the_write_pool, sql)


# The fan-out (jobs.tasks.fanout): a story reaches the timeline of each follower of its author.
def followers_of(story_id: int) -> int:
    return int(
        psql(
            "SELECT count(*) FROM news_follow f JOIN news_story s ON s.author_id = f.followee_id "
            f"WHERE s.id = {story_id}"
        )
    )


def delivered(story_id: int) -> tuple[int, int]:
    """(entries in followers' timelines, distinct followers among them)."""
    row = psql(
        "SELECT count(*), count(DISTINCT t.user_id) FROM news_timelineentry t JOIN news_story s "
        f"ON s.id = t.story_id WHERE t.story_id = {story_id} AND t.user_id <> s.author_id"
    )
    entries, distinct = row.split("|")
    return int(entries), int(distinct)


def unfinished(story_ids: list[int]) -> list[int]:
    """The stories some follower of their author does not have in their timeline yet."""
    if not story_ids:
        return []
    out = psql(
        "SELECT s.id FROM news_story s WHERE s.id IN ("
        + ",".join(map(str, story_ids))
        + ") AND (SELECT count(*) FROM news_follow f WHERE f.followee_id = s.author_id) <> "
        "(SELECT count(*) FROM news_timelineentry t WHERE t.story_id = s.id AND t.user_id <> s.author_id)"
    )
    return [int(line) for line in out.splitlines()]


def haproxy(balancer: str, command: str) -> str:
    """Send one command to a balancer's runtime API (loopback inside its container)."""
    script = f'exec 3<>/dev/tcp/127.0.0.1/9999; echo "{command}" >&3; cat <&3'
    return compose("exec", "-T", balancer, "bash", "-c", script).stdout


def haproxy_rows(csv: str) -> list[dict[str, str]]:
    """The rows of an HAProxy stats page in CSV (`/;csv`), as dicts keyed by its header."""
    lines = csv.lstrip("# ").splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]


def stats_csv(stats_url: str) -> str:
    """An HAProxy stats page in CSV, asked with the operator's credentials from .env."""
    credentials = (env_value("HAPROXY_STATS_USER"), env_value("HAPROXY_STATS_PASSWORD"))
    response = requests.get(f"{stats_url}/;csv", auth=credentials, timeout=5)
    response.raise_for_status()
    return response.text


def haproxy_status(stats_url: str, backend: str) -> dict[str, str]:
    """Server name -> status (UP, DOWN, MAINT...) of one backend, from the stats CSV."""
    rows = haproxy_rows(stats_csv(stats_url))
    return {
        row["svname"]: row["status"]
        for row in rows
        if row["pxname"] == backend and row["svname"] not in ("FRONTEND", "BACKEND")
    }


def served_by(response: requests.Response) -> str:
    return response.headers.get("X-Served-By", "?")


class Visitor:
    """A person using the site through the edge with a requests session (cookies, CSRF)."""

    def __init__(self, edge: str, load_generator: bool = False) -> None:
        """`load_generator`: present LOAD_GENERATOR_KEY, past the edge's rate limits (the
        benchmark's writes, not a person's)."""
        self.edge = edge
        self.session = requests.Session()
        if load_generator:
            self.session.headers["X-Load-Generator"] = env_value("LOAD_GENERATOR_KEY")

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.edge}{path}", timeout=10, **kwargs)

    def form_fields(self, path: str) -> dict[str, str]:
        """The hidden fields of the form at `path`: its CSRF token, and its write key
        when it writes."""
        form = self.get(path).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, f"no form with a CSRF token at {path}"
        key = re.search(r'name="write_key" value="([^"]+)"', form)
        return {"csrfmiddlewaretoken": token[1], **({"write_key": key[1]} if key else {})}

    def submit(self, path: str, data: dict, form_path: str | None = None) -> requests.Response:
        """Fill in and post the form at `form_path` (default: `path`), as a browser does."""
        fields = self.form_fields(form_path or path)
        return self.session.post(f"{self.edge}{path}", data={**fields, **data}, timeout=10)

    def log_in(self, username: str, password: str | None = None) -> "Visitor":
        """Log in (a demo member by default: they all share the demo password)."""
        password = password or env_value("DEMO_PASSWORD")
        response = self.submit("/login", {"username": username, "password": password})
        assert response.status_code == 200 and f"@{username}" in response.text, response.text[-500:]
        return self

    def post_story(self, title: str, url: str = "https://example.com/story") -> int:
        """Post a story through the form; return its id."""
        response = self.submit("/submit", {"title": title, "url": url, "text": ""})
        assert response.status_code == 200, response.text[-500:]
        return int(re.search(r"/s/(\d+)", response.url).group(1))

    def sign_up(self, username: str, password: str = "correct horse battery") -> "Visitor":
        response = self.submit("/signup", {"username": username, "name": username, "password": password})
        assert response.status_code == 200 and f"@{username}" in response.text, response.text[-500:]
        return self


def png(colour: tuple[int, int, int]) -> bytes:
    """An 8x8 picture of one colour (a PNG written by hand: no imaging library here)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(colour) * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks
