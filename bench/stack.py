"""What the benchmark needs of the running stack: a load generator inside its networks,
the CPU time of each container, HAProxy's runtime API and the cache's counters.

The load generator is wrk (the `bench` service: the Locust image, on the front and
back tiers). From inside the compose network the figures are the tiers' own; the
host's path through Docker's published ports is measured separately, by the same
wrk on the host's network.
"""

import contextlib
import datetime
import json
import os
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.stack import (
    POSTGRES_MEMBERS,
    ROOT,
    Visitor,
    compose,
    compose_command,
    env_value,
    haproxy,
    haproxy_status,
    healthy,
    png,
    psql,
    published,
    redis_cli,
    replicas,
)

LUA = ROOT / "bench" / "summary.lua"
TIERS = {
    "edge": ["edge-lb"],
    "web": ["web1", "web2", "web3"],
    "platform-lb": ["platform-lb"],
    "platform": ["platform1", "platform2"],
    "cache": ["redis"],
    # The Postgres members and the consensus store that elects their primary.
    "database": ["db-lb", *POSTGRES_MEMBERS, "etcd1", "etcd2", "etcd3"],
    "cdn": ["cdn"],
    # Docker's own processes on this host (logs, container plumbing): every line a
    # container prints goes through them.
    "docker": ["dockerd", "containerd", "containerd-shim"],
}
CONTAINERS = [service for tier, services in TIERS.items() if tier != "docker" for service in services]
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One bounded wrk run: what it asked, how it went, and what it cost each container."""

    label: str
    requests: int
    seconds: float
    bad_status: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms: dict[str, float] = field(default_factory=dict)  # service -> CPU time during the run
    busy: float = 0.0  # share of the machine's CPU time in use during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.bad_status + self.socket_errors

    def cpu_per_request(self, tier: str) -> float | None:
        """Milliseconds of CPU the tier's containers spent per request (None: not measured)."""
        spent = [self.cpu_ms[service] for service in TIERS[tier] if service in self.cpu_ms]
        if not spent or not self.requests:
            return None
        return sum(spent) / self.requests


def container_ids() -> dict[str, str]:
    ids = {}
    for line in compose("ps", "--format", "json", *CONTAINERS).stdout.splitlines():
        row = json.loads(line)
        ids[row["Service"]] = row["ID"]
    return ids


def _cpu_file(container_id: str) -> Path | None:
    """Where the host's kernel counts a container's CPU time (cgroup v1 or v2)."""
    full = subprocess.run(
        ["docker", "inspect", "--format", "{{.Id}}", container_id], capture_output=True, text=True
    ).stdout.strip()
    for path in (
        Path(f"/sys/fs/cgroup/cpuacct/docker/{full}/cpuacct.usage"),  # v1, cgroupfs driver
        Path(f"/sys/fs/cgroup/cpu,cpuacct/docker/{full}/cpuacct.usage"),
        Path(f"/sys/fs/cgroup/system.slice/docker-{full}.scope/cpu.stat"),  # v2, systemd driver
        Path(f"/sys/fs/cgroup/docker/{full}/cpu.stat"),  # v2, cgroupfs driver
    ):
        if path.exists():
            return path
    return None


def _read_cpu_ms(path: Path) -> float:
    text = path.read_text()
    if path.name == "cpuacct.usage":
        return int(text) / 1e6  # nanoseconds
    usage = dict(line.split() for line in text.splitlines())
    return int(usage["usage_usec"]) / 1e3


class CpuMeter:
    """CPU time per container, read from the host's cgroups (not available where Docker
    runs in a VM, as on Docker Desktop: the report then says so)."""

    def __init__(self) -> None:
        self.files = {}
        for service, container_id in container_ids().items():
            path = _cpu_file(container_id)
            if path:
                self.files[service] = path

    def read(self) -> dict[str, float]:
        readings = {}
        for service, path in self.files.items():
            with contextlib.suppress(OSError):  # the container went away (a failover drill)
                readings[service] = _read_cpu_ms(path)
        if self.files:  # the host's cgroups are readable, so its processes are too
            readings |= _docker_processes_ms()
        return readings


def _docker_processes_ms() -> dict[str, float]:
    """CPU time of the Docker daemon's processes on this host, by name (every shim summed)."""
    spent = dict.fromkeys(TIERS["docker"], 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            name, _, rest = stat.read_text().partition(") ")
            name = name.split("(", 1)[1]
            key = "containerd-shim" if name.startswith("containerd-shim") else name
            if key in spent:
                fields = rest.split()
                spent[key] += (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICK  # utime + stime
    return spent


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def at_rest(seconds: float) -> tuple[float, dict[str, float]]:
    """With no load: the share of the machine in use, and each container's CPU as a
    share of one core (health checks, cron jobs, consumers polling)."""
    meter = CpuMeter()
    before, busy_before = meter.read(), machine_busy()
    time.sleep(seconds)
    after, busy_after = meter.read(), machine_busy()
    shares = {name: (after[name] - before[name]) / 1000 / seconds for name in after if name in before}
    return (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]), shares


def image() -> str:
    config = json.loads(compose("--profile", "bench", "config", "--format", "json").stdout)
    return config["services"]["bench"]["image"]


def wrk(
    label: str,
    url: str,
    seconds: float,
    connections: int = 16,
    host: str = "localhost",
    headers: tuple[str, ...] = (),
    paths: tuple[str, int, int] | None = None,
    from_host: bool = False,
    meter: CpuMeter | None = None,
) -> Run:
    """Load one URL for `seconds` with `connections` kept-alive connections (or, with
    `paths`, a random one of pattern % first..last) and return what happened."""
    seconds = max(1, round(seconds))  # wrk takes whole seconds
    arguments = ["--threads", "2", "--connections", str(connections), "--duration", f"{seconds}s"]
    arguments += ["--timeout", "10s", "--header", f"Host: {host}"]
    # Past the edge's per-address rate limits, as Locust is (haproxy/edge.cfg).
    arguments += ["--header", f"X-Load-Generator: {env_value('LOAD_GENERATOR_KEY')}"]
    for header in headers:
        arguments += ["--header", header]
    arguments += [url]
    if paths:
        arguments += ["--", paths[0], str(paths[1]), str(paths[2])]
    if from_host:  # the same wrk, on the host's network: through Docker's published ports
        command = ["docker", "run", "--rm", "--network", "host", "--volume", f"{LUA}:/bench/summary.lua:ro"]
        command += ["--entrypoint", "wrk", image(), "--script", "/bench/summary.lua", *arguments]
    else:
        command = compose_command("--profile", "bench", "run", "--rm", "--no-deps", "-T", "bench", *arguments)
    cpu_before = meter.read() if meter else {}
    busy_before = machine_busy()
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    busy_after = machine_busy()
    cpu_after = meter.read() if meter else {}
    summary = next((line for line in result.stdout.splitlines() if line.startswith("SUMMARY ")), None)
    if result.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk {label} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(summary.removeprefix("SUMMARY "))
    return Run(
        label=label,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        bad_status=figures["bad_status"],
        socket_errors=figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1e3,
        p95_ms=figures["p95_us"] / 1e3,
        p99_ms=figures["p99_us"] / 1e3,
        cpu_ms={
            service: cpu_after[service] - cpu_before[service]
            for service in cpu_after
            if service in cpu_before
        },
        busy=(busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),
    )


def set_servers(balancer: str, backend: str, ready: list[str], drained: list[str]) -> None:
    """Put servers in rotation, or drain them (no new requests), as `make drain` does."""
    for server in ready:
        haproxy(balancer, f"set server {backend}/{server} state ready")
    for server in drained:
        haproxy(balancer, f"set server {backend}/{server} state drain")


def redis(*command: str) -> str:
    return redis_cli("redis", "--raw", *command)


def cache_counts() -> tuple[int, int]:
    """(hits, misses) over every named cache, as the platform counts them in Redis."""
    values = redis("HGETALL", "cache.stats").split()
    hits = misses = 0
    for name, count in zip(values[::2], values[1::2], strict=True):
        if name.endswith(":hits"):
            hits += int(count)
        elif name.endswith(":misses"):
            misses += int(count)
    return hits, misses


def platform_with_cache(enabled: bool) -> None:
    """Start the platform nodes again with the cache switched on or off (CACHE_ENABLED),
    and wait until their balancer has both back in rotation."""
    compose(
        "up", "--detach", "--no-deps", "--no-build", "--force-recreate", "--wait", "platform1", "platform2",
        env={"CACHE_ENABLED": "on" if enabled else "off"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if haproxy_servers_up("platform-lb", "platform_pool", ["platform1", "platform2"]):
            return
        time.sleep(0.5)
    raise RuntimeError("the platform nodes are not back in rotation after 60 s")


def haproxy_servers_up(balancer: str, backend: str, servers: list[str]) -> bool:
    rows = haproxy(balancer, "show stat").splitlines()
    header = rows[0].lstrip("# ").split(",")
    status = {}
    for line in rows[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == backend:
            status[row["svname"]] = row["status"]
    return all(status.get(server) == "UP" for server in servers)


def api_token() -> str:
    return env_value("PLATFORM_API_TOKEN")


def versions() -> dict[str, str]:
    """The machine and the software the figures were measured on."""

    def output(*command: str) -> str:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()

    def first(path: str, prefix: str) -> str:
        line = next((line for line in Path(path).read_text().splitlines() if line.startswith(prefix)), ":?")
        return line.split(":", 1)[1].strip()

    commit = output("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    dirty = output("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cores": str(os.cpu_count()),
        "cpu": first("/proc/cpuinfo", "model name"),
        "memory": f"{int(first('/proc/meminfo', 'MemTotal').split()[0]) / 1024 / 1024:.0f} GiB",
        "kernel": os.uname().release,
        "docker": output("docker", "version", "--format", "{{.Server.Version}}"),
    }


def healthy_stack() -> bool:
    return healthy(*CONTAINERS)


# The members the benchmark signs up; closed when it ends (close_members).
MEMBER_PREFIX = "bench_"


def picture_path() -> str:
    """Sign a new member up through the edge, give them a picture, and return where
    their page links it on the CDN host (media/u/<member>/avatar?v=<n>)."""
    visitor = Visitor(edge_url(), load_generator=True).sign_up(f"{MEMBER_PREFIX}{uuid.uuid4().hex[:10]}")
    fields = visitor.form_fields("/settings/profile")
    visitor.session.post(
        f"{visitor.edge}/settings/profile",
        data={**fields, "name": "Bench", "bio": ""},
        files={"avatar": ("me.png", png((40, 120, 200)), "image/png")},
        timeout=10,
    ).raise_for_status()
    page = visitor.get("/settings/profile").text
    url = re.search(r'<img class="avatar[^"]*" src="([^"]+)"', page)
    if not url:
        raise RuntimeError("the member's picture is not on their settings page")
    return url[1].split(":", 2)[2].split("/", 1)[1]


def close_members() -> None:
    compose(
        "run", "--rm", "--no-deps", "-T", "platform1",
        "python", "manage.py", "close_accounts", "--username-prefix", MEMBER_PREFIX,
    )  # fmt: skip


def edge_url() -> str:
    return f"http://{published('edge-lb', 8080)}"


def server_status(balancer: str, backend: str, server: str) -> str:
    """UP, DOWN, MAINT...: a server as its balancer sees it (its published stats page)."""
    return haproxy_status(f"http://{published(balancer, 8404)}", backend).get(server, "?")


def outbox_backlog() -> int:
    return int(psql("SELECT count(*) FROM jobs_outboxmessage"))


PUBLISH_CLICKS = """
import json, time
import pika
from django.conf import settings
from jobqueue import CLICKS_QUEUE
from news import clicks

amqp = pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL))
channel = amqp.channel()
clicks.declare(channel)
persistent = pika.BasicProperties(content_type="application/json", delivery_mode=2)
for _ in range({count}):
    event = clicks.event({story}, None, "bench.example")
    channel.basic_publish("", CLICKS_QUEUE, json.dumps(event).encode(), persistent)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    waiting = channel.queue_declare(CLICKS_QUEUE, passive=True).method.message_count
    if waiting >= {count}:
        break
    time.sleep(0.1)
print(waiting)
amqp.close()
"""


def publish_clicks(story: int, count: int) -> int:
    """Put `count` click events for a story on the clicks queue, as the web tier's clicks
    would, from a platform container; the number waiting in the queue after."""
    code = PUBLISH_CLICKS.format(story=story, count=count)
    published = compose("exec", "-T", "platform1", "python", "manage.py", "shell", "-c", code)
    return int(published.stdout.split()[-1])


def click_count(story: int) -> int:
    return int(psql(f"SELECT count(*) FROM news_click WHERE story_id = {int(story)}"))


def now() -> str:
    """The time now, as `docker compose logs --since` takes it."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def log_lines(service: str, since: str, pattern: str) -> list[tuple[float, re.Match]]:
    """(time, match) for each of the service's log lines since `since` that match."""
    logs = compose("logs", "--no-color", "--no-log-prefix", "--timestamps", "--since", since, service).stdout
    found = []
    for line in logs.splitlines():
        stamp, _, text = line.partition(" ")
        if match := re.search(pattern, text):
            # Docker stamps nanoseconds; datetime takes microseconds.
            stamp = re.sub(r"(\.\d{6})\d*", r"\1", stamp)
            found.append((datetime.datetime.fromisoformat(stamp).timestamp(), match))
    return found


def rate(lines: list[tuple[float, re.Match]]) -> float:
    """Items a second between the first and last of log_lines(): each line counts its
    pattern's first group if it has one, else one item. The first line's items are not
    counted (the clock starts when it is written)."""
    if len(lines) < 2:
        raise RuntimeError(f"{len(lines)} matching log lines: too few to time")
    items = [int(match.group(1)) if match.groups() else 1 for _, match in lines]
    return sum(items[1:]) / max(lines[-1][0] - lines[0][0], 1e-3)


# --- Map-reduce: one SQL query against the Spark job ------------------------------------

ANALYTICS = ("spark-master", "spark-worker", "analytics-consumer")

# A follower graph shaped like the demo world's (seed.py): five celebrities each followed
# by 80% of members, then a lognormal number of follows per member (capped at 200)
# whose targets are Zipf-like (id n drawn with a weight of 1/n, as floor(N^random())).
GENERATE_GRAPH = """
DROP TABLE IF EXISTS bench_follows;
CREATE TABLE bench_follows AS
SELECT DISTINCT m.id AS follower_id, f.followee_id
FROM (SELECT g AS id,
             least(floor(exp(2.5 + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))), 200)::int
               AS picks
      FROM generate_series(1, {members}) g) m
CROSS JOIN LATERAL (
    SELECT c::bigint AS followee_id FROM generate_series(1, 5) c WHERE random() < 0.8 AND m.id > 0
    UNION ALL
    SELECT floor(power({members}, random()))::bigint FROM generate_series(1, m.picks)
) f
WHERE f.followee_id <> m.id;
ANALYZE bench_follows;
SELECT count(*) FROM bench_follows;
"""

# People you may know in one SQL statement: the same definition as the Spark job's.
PEOPLE_SQL = """
DROP TABLE IF EXISTS bench_people_sql;
CREATE TABLE bench_people_sql AS
SELECT 0::bigint AS run_id, member_id, rank::int, suggested_id, mutuals::int FROM (
    SELECT a.follower_id AS member_id, b.followee_id AS suggested_id, count(*) AS mutuals,
           row_number() OVER (PARTITION BY a.follower_id ORDER BY count(*) DESC, b.followee_id) AS rank
    FROM {follows} a JOIN {follows} b ON b.follower_id = a.followee_id
    WHERE b.followee_id <> a.follower_id
      AND NOT EXISTS (SELECT 1 FROM {follows} c
                      WHERE c.follower_id = a.follower_id AND c.followee_id = b.followee_id)
    GROUP BY a.follower_id, b.followee_id
) ranked WHERE rank <= 10;
"""


def start_analytics() -> None:
    """The analytics profile, beside the running stack (not waiting on its health
    again: right after the failover drills a health check may still be catching up)."""
    compose("--profile", "analytics", "up", "--no-build", "--no-deps", "--detach", "--wait",
            "--wait-timeout", "300", *ANALYTICS, timeout=400)  # fmt: skip


def generate_graph(members: int) -> int:
    """bench_follows, a generated graph of `members` members; its number of follows."""
    return int(psql(GENERATE_GRAPH.format(members=int(members))).split()[-1])


def replica_count(table: str) -> int:
    """Rows of `table` on the replica with the fewest: the read pool the Spark job reads."""
    try:
        return min(int(psql(f"SELECT count(*) FROM {table}", member=replica) or -1) for replica in replicas())
    except (subprocess.CalledProcessError, ValueError):
        return -1  # not there yet


def people_by_sql(follows: str) -> float:
    """Seconds for one SQL statement to compute every member's top 10 into bench_people_sql."""
    started = time.monotonic()
    psql(PEOPLE_SQL.format(follows=follows))
    return time.monotonic() - started


def people_by_spark(follows_query: str) -> dict:
    """The Spark job (spark-submit from the analytics consumer, Spark's start included)
    into bench_people_spark: its summary, with its seconds."""
    psql("DROP TABLE IF EXISTS bench_people_spark; CREATE TABLE bench_people_spark (LIKE bench_people_sql)")
    result = compose(
        "exec", "-T", "analytics-consumer", "python", "manage.py", "spark_job", "people-you-may-know", "--",
        "--follows-query", follows_query, "--table", "bench_people_spark", timeout=3600,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def same_people() -> bool:
    """Whether the SQL statement and the Spark job wrote the same rows."""
    differ = psql(
        "SELECT count(*) FROM ((SELECT * FROM bench_people_sql EXCEPT SELECT * FROM bench_people_spark) "
        "UNION ALL (SELECT * FROM bench_people_spark EXCEPT SELECT * FROM bench_people_sql)) d"
    )
    return differ == "0"


def drop_bench_tables() -> None:
    psql("DROP TABLE IF EXISTS bench_follows, bench_people_sql, bench_people_spark")
