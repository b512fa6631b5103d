"""The live architecture dashboard's data: the article's diagram, box by box, from
Prometheus (prometheus/prometheus.yml says what it scrapes).

`snapshot()` asks Prometheus a fixed set of instant queries and turns the answers
into what the page draws: each box's state (up, down, draining...) with the few
figures a person needs to understand it, and the traffic along each arrow.
`charts()` asks for the last few minutes of a handful of series. The browser never
talks to Prometheus: it polls the web tier (views.dashboard), and the edge keeps
each answer for a second (haproxy/edge.cfg), so open dashboards cost little.

A source that does not answer (Prometheus itself, or a target it scrapes) is named
on the page, and the boxes that depend on it say "no data", never a guess.
"""

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
import urllib3
from django.conf import settings

# What each box is, in the article's colours: green for requests from outside, blue
# for our code, red for infrastructure.
EXTERNAL, CODE, INFRA = "external", "code", "infra"

# States, each drawn with a label and an icon as well as a colour (the page's legend).
UP, DOWN, FROZEN, DRAINING, MAINT, LAGGING, LATE, OFF, NO_DATA = (
    "up",
    "down",
    "frozen",
    "draining",
    "maintenance",
    "lagging",
    "late",
    "off",
    "no data",
)

WEB_NODES = ("web1", "web2", "web3")
PLATFORM_NODES = ("platform1", "platform2")
# RabbitMQ's nodes: the broker serves while most of them are up (its quorum queues
# need a majority of their replicas).
BROKER_NODES = ("rabbitmq1", "rabbitmq2", "rabbitmq3")
# Postgres' members under Patroni: any one may be the primary, and that changes when it
# fails. etcd, where Patroni keeps the leader key, agrees while most of its members are up.
POSTGRES_MEMBERS = ("postgres1", "postgres2", "postgres3")
ETCD_MEMBERS = ("etcd1", "etcd2", "etcd3")
# Each consumer box and the queues its consumers take: the Celery box stands for both
# Celery services, `consumer` (jobs) and `export-consumer` (exports, a queue of its own).
WORK_QUEUES = {
    "consumer": ("jobs", "exports"),
    "click-consumer": ("clicks",),
    "analytics-consumer": ("analytics",),
}
DEAD_LETTER = ".dead-letter"
# A replica counts as lagging past either bound.
LAG_SECONDS, LAG_BYTES = 5.0, 16 * 1024 * 1024
# The result of a balancer's latest health check of a server that means it passed
# (HAProxy's check status codes; the others are timeouts, refusals, bad answers).
CHECK_PASSED = {"L4OK", "L6OK", "L7OK", "L7OKC", "PROCOK", "INI", "UNK", "HANA"}
# A check that connected and got no answer in time: the node accepts connections and
# answers nothing, as a frozen process does (`make pause`; or one hopelessly overloaded).
CHECK_NO_ANSWER = "L7TOUT"
# cron publishes `heartbeat` every minute: a slot older than this means no cron runs.
HEARTBEAT_LATE = 150


def _any_of(*names: str, where: str = "") -> str:
    """A selector of several metric families at once: one query instead of several."""
    return '{__name__=~"' + "|".join(names) + '"' + (f", {where}" if where else "") + "}"


P95 = "histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[30s])))"
# Celery's plumbing (remote-control replies, delayed delivery): not work queues.
NOT_WORK_QUEUES = 'queue!~".*pidbox|celery_delayed_.*|celeryev.*"'

# The instant queries, one request each. Rates use irate over the last two samples
# (scraped every second or two), so a node's traffic drops on the page as it stops.
QUERIES = {
    "up": "up",
    "server_state": "haproxy_server_status == 1",
    "server_check": "haproxy_server_check_status == 1",
    "server_http": "sum by (instance, proxy, server, code) (irate(haproxy_server_http_responses_total[5s]))",
    "server_sessions": "haproxy_server_current_sessions",
    "server_last": "haproxy_server_last_session_seconds",
    "frontend_http": "sum by (instance, proxy) (irate(haproxy_frontend_http_requests_total[5s]))",
    "postgres": _any_of("pg_up", "pg_replication_lag_seconds", "pg_stat_replication_pg_wal_lsn_diff"),
    # Each member's role as its Patroni sees it.
    "patroni": _any_of(
        "patroni_primary",
        "patroni_replica",
        "patroni_quorum_standby",
        "patroni_sync_standby",
        "patroni_postgres_streaming",
        "patroni_postgres_timeline",
        "patroni_xlog_paused",
        where='job="patroni"',
    ),
    "etcd": "etcd_server_has_leader",
    "redis": _any_of(
        "redis_up",
        "redis_memory_used_bytes",
        "redis_memory_max_bytes",
        "redis_evicted_keys_total",
        where='job="redis"',
    ),
    "evictions": 'irate(redis_evicted_keys_total{job="redis"}[10s])',
    "cache": "sum by (result) (rate(platform_cache_lookups_total[1m]))",
    "cache_now": "sum(irate(platform_cache_lookups_total[5s]))",
    # Each node reports the queues it leads: the cluster's figures are their sum.
    "queues": "sum by (__name__, queue) ("
    + _any_of("rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_consumers")
    + ")",
    "platform_state": _any_of(
        "platform_outbox_waiting", "platform_outbox_oldest_seconds", "platform_state_read_ok"
    ),
    "slots": "max by (task, published_by) (jobs_last_slot_timestamp_seconds)",
    "cdn_now": "sum by (source) (irate(cdn_requests_total[5s]))",
    "cdn_5m": "sum by (source) (increase(cdn_requests_total[5m]))",
    "latency": P95,
    "spark": _any_of(
        "metrics_master_aliveWorkers_Value",
        "metrics_master_apps_Value",
        "metrics_worker_coresUsed_Value",
        "metrics_worker_coresFree_Value",
    ),
}

# The small charts: the last few minutes, a point every few seconds.
CHART_MINUTES, CHART_STEP = 5, 5
CHARTS = {
    "requests": {
        "title": "Requests per second, by web node",
        "unit": "req/s",
        "query": 'sum by (server) (rate(haproxy_server_http_responses_total{proxy="web"}[10s]))',
        "label": "server",
    },
    "latency": {
        "title": "p95 latency, by tier",
        "unit": "ms",
        "query": f"1000 * {P95}",
        "label": "job",
    },
    "errors": {
        "title": "Error answers (5xx) per second, by balancer",
        "unit": "err/s",
        "query": 'sum by (instance) (rate(haproxy_backend_http_responses_total{code="5xx"}[10s]))',
        "label": "instance",
    },
    "cache": {
        "title": "Cache hit ratio",
        "unit": "%",
        "query": '100 * sum(rate(platform_cache_lookups_total{result="hit"}[30s]))'
        " / sum(rate(platform_cache_lookups_total[30s]))",
        "label": None,
    },
    "queues": {
        "title": "Messages waiting, by queue (and the outbox)",
        "unit": "msgs",
        # Work queues and their dead letters, and the outbox the relay empties into them.
        "query": f"sum by (queue) (rabbitmq_detailed_queue_messages{{{NOT_WORK_QUEUES}}})"
        ' or label_replace(max(platform_outbox_waiting), "queue", "outbox", "", "")',
        "label": "queue",
    },
}

# Which Prometheus scrape job feeds which part of the page (for "no data" notices).
SOURCES = {
    "haproxy": "the load balancers' own exporter",
    "web": "the web nodes' /metrics",
    "platform": "the platform nodes' /metrics",
    "postgres": "postgres_exporter",
    "patroni": "Patroni's /metrics",
    "etcd": "etcd's /metrics",
    "redis": "redis_exporter",
    "rabbitmq": "RabbitMQ's prometheus plugin",
    "cdn": "the CDN host's counters",
}

_http = urllib3.PoolManager(maxsize=4, timeout=urllib3.Timeout(connect=0.5, read=3.0), retries=False)


class PrometheusUnavailable(Exception):
    pass


def _ask(path: str, params: dict[str, Any]) -> list[dict]:
    url = f"{settings.PROMETHEUS_URL}/api/v1/{path}?{urlencode(params)}"
    try:
        response = _http.request("GET", url)
    except urllib3.exceptions.HTTPError as exc:
        raise PrometheusUnavailable(f"Prometheus did not answer ({type(exc).__name__})") from exc
    if response.status != 200:
        raise PrometheusUnavailable(f"Prometheus answered {response.status}")
    return orjson.loads(response.data)["data"]["result"]


@dataclass
class Samples:
    """One instant query's answer: (labels, value) pairs, filtered by label."""

    series: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def where(self, **labels: str) -> "Samples":
        return Samples(
            [(lbl, v) for lbl, v in self.series if all(lbl.get(k) == x for k, x in labels.items())]
        )

    def value(self, **labels: str) -> float | None:
        found = self.where(**labels).series
        return found[0][1] if found else None

    def total(self, **labels: str) -> float:
        return sum(v for _, v in self.where(**labels).series)

    def __iter__(self):
        return iter(self.series)


def _samples(result: Iterable[dict]) -> Samples:
    return Samples([(r["metric"], float(r["value"][1])) for r in result])


def query_all() -> dict[str, Samples]:
    return {name: _samples(_ask("query", {"query": query})) for name, query in QUERIES.items()}


def _rate(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _bytes(value: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # unreachable


def _ago(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago"


class Snapshot:
    """Builds the page's data from the answers of query_all()."""

    def __init__(self, q: dict[str, Samples], now: float) -> None:
        self.q = q
        self.now = now
        self.boxes: dict[str, dict[str, Any]] = {}
        self.arrows: dict[str, dict[str, Any]] = {}
        self.missing: list[str] = []

    # --- helpers -----------------------------------------------------------------
    def scraped(self, job: str, instance: str | None = None) -> bool | None:
        """Whether Prometheus' last scrape of a target worked (None: not a target)."""
        labels = {"job": job, **({"instance": instance} if instance else {})}
        found = self.q["up"].where(**labels).series
        if not found:
            return None
        return all(value == 1 for _, value in found)

    def box(self, name: str, kind: str, state: str, lines: list[str], note: str = "") -> None:
        self.boxes[name] = {"kind": kind, "state": state, "lines": lines, "note": note}

    def arrow(self, name: str, rate: float | None, unit: str = "req/s") -> None:
        self.arrows[name] = {"rate": rate, "label": "" if rate is None else f"{_rate(rate)} {unit}"}

    def balancer_state(self, balancer: str, proxy: str, server: str) -> str | None:
        for labels, _ in self.q["server_state"].where(instance=balancer, proxy=proxy, server=server):
            state = labels.get("state", "")
            return {"UP": UP, "DOWN": DOWN, "DRAIN": DRAINING, "NOLB": DRAINING, "MAINT": MAINT}.get(
                state, state.lower()
            )
        return None

    # --- the boxes ---------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        for job, what in SOURCES.items():
            if self.scraped(job) is False:
                down = sorted(lbl["instance"] for lbl, v in self.q["up"].where(job=job) if v == 0)
                self.missing.append(f"{what}: no answer from {', '.join(down)}")
        self.requests_and_edge()
        self.nodes("edge-lb", "web", "web", WEB_NODES, "edge-lb")
        self.platform_pool()
        self.nodes("platform-lb", "platform_pool", "platform", PLATFORM_NODES, "platform-lb")
        self.databases()
        self.cache()
        self.broker_and_consumers()
        self.cron()
        self.cdn()
        self.spark()
        return {"boxes": self.boxes, "arrows": self.arrows, "missing": self.missing}

    def requests_and_edge(self) -> None:
        edge_up = self.scraped("haproxy", "edge-lb")
        rate = self.q["frontend_http"].value(instance="edge-lb", proxy="www")
        latency = self.q["latency"].value(job="web")
        lines = [f"{_rate(rate)} req/s"] if rate is not None else []
        if latency is not None and not math.isnan(latency):
            lines.append(f"p95 {latency * 1000:.0f} ms")
        self.box("requests", EXTERNAL, UP, lines)
        self.arrow("requests>edge-lb", rate)
        self.box(
            "edge-lb", INFRA, UP if edge_up else (DOWN if edge_up is False else NO_DATA), ["round robin"]
        )

    def last_check(self, balancer: str, proxy: str, server: str) -> str | None:
        """The status code of the balancer's latest health check of a server."""
        for labels, _ in self.q["server_check"].where(instance=balancer, proxy=proxy, server=server):
            return labels.get("state")
        return None

    @staticmethod
    def node_state(
        balancer: str | None, check: str | None, answers: bool | None, served: float
    ) -> tuple[str, str]:
        """A node's state and why, from its balancer's view first, then the signals that
        arrive a second or two before the balancer's checks have counted to `fall`."""
        failing = check is not None and check not in CHECK_PASSED
        if balancer is None:
            return NO_DATA, ""
        if balancer in (DOWN, UP) and check == CHECK_NO_ANSWER:
            return FROZEN, "accepts connections, answers nothing"
        if balancer in (DOWN, MAINT):
            # MAINT is also what HAProxy shows once a server's name no longer resolves
            # (Docker drops a stopped container's name): either way it serves nothing.
            return DOWN, "out of rotation"
        if balancer == UP and failing:
            # Its latest health check failed: the balancer takes it out at the next
            # failure (fall 2), a second or so from now.
            return DOWN, "failing its health checks"
        if balancer == UP and answers is False and served == 0:
            # Prometheus cannot reach it and it finished no request since the last
            # scrape: gone (killed, frozen). A node slow under load still finishes
            # requests, and stays up.
            return DOWN, "not answering"
        return balancer, "not answering Prometheus" if answers is False else ""

    def nodes(self, balancer: str, proxy: str, job: str, names: tuple[str, ...], parent: str) -> None:
        http = self.q["server_http"].where(instance=balancer, proxy=proxy)
        serving = {}
        for name in names:
            state = self.balancer_state(balancer, proxy, name)
            answers = self.scraped(job, name)
            check = self.last_check(balancer, proxy, name)
            rate = http.total(server=name)
            errors = http.total(server=name, code="5xx")
            lines = [f"{_rate(rate)} req/s", f"{_rate(errors)} errors/s"]
            state, note = self.node_state(state, check, answers, served=rate)
            last = self.q["server_last"].value(instance=balancer, proxy=proxy, server=name)
            if last is not None and last >= 0:
                serving[name] = last
            self.box(name, CODE, state, lines, note)
            self.arrow(f"{parent}>{name}", rate if state != NO_DATA else None)
        # Which node served the latest requests: the one whose last request is newest.
        if serving:
            latest = min(serving, key=lambda name: serving[name])
            self.boxes[latest]["latest"] = True

    def platform_pool(self) -> None:
        up = self.scraped("haproxy", "platform-lb")
        rate = self.q["frontend_http"].value(instance="platform-lb", proxy="platform")
        lines = ["least connections"] + ([f"{_rate(rate)} req/s in"] if rate is not None else [])
        self.box("platform-lb", INFRA, UP if up else (DOWN if up is False else NO_DATA), lines)
        for web in WEB_NODES:  # it cannot tell which web node called: traffic or not
            self.arrow(f"{web}>platform-lb", rate)

    def databases(self) -> None:
        sessions = self.q["server_sessions"].where(instance="db-lb")
        db_lb_up = self.scraped("haproxy", "db-lb")

        # Where each pool sends its connections, as db-lb's checks of Patroni see it.
        def serving(pool: str, suffix: str = "") -> list[str]:
            return [m for m in POSTGRES_MEMBERS if self.balancer_state("db-lb", pool, m + suffix) == UP]

        replicas, writers = serving("read_pool"), serving("write_pool")
        if replicas:
            reads = f"{len(replicas)} replica" + ("s" if len(replicas) > 1 else "")
        else:  # the primary, as the read pool's backup; none while there is no primary
            reads = "primary (backup)" if serving("read_pool", "-primary") else "none"
        # Connections, not requests: the platform keeps its connections open (pooled).
        to_writes = sessions.total(proxy="write_pool")
        to_reads = sessions.total(proxy="read_pool")
        self.box(
            "db-lb",
            INFRA,
            UP if db_lb_up else (DOWN if db_lb_up is False else NO_DATA),
            [
                f"reads → {reads}",
                f"writes → {', '.join(writers) or 'none'}",
                f"{to_writes:.0f} write + {to_reads:.0f} read conns",
            ],
        )
        for node in PLATFORM_NODES:
            self.arrow(f"{node}>db-lb", to_writes + to_reads, "conns")
        for member in POSTGRES_MEMBERS:
            # A member's connections: as a replica, as the read pool's backup, as the primary.
            to_member = sum(sessions.total(server=server) for server in (member, f"{member}-primary"))
            self.arrow(f"db-lb>{member}", to_member, "conns")
            self.postgres_member(member)
        self.etcd()

    def postgres_member(self, name: str) -> None:
        """A member's role from its Patroni; up or down, and a replica's lag, from its exporter."""
        pg = self.q["postgres"]
        patroni = self.q["patroni"].where(instance=name)
        state = self._pg_state(pg.value(instance=name, __name__="pg_up"), name)
        lines, pool = [], None
        if patroni.value(__name__="patroni_primary") == 1:
            pool = "write_pool"
            lines.append("primary: every write")
            timeline = patroni.value(__name__="patroni_postgres_timeline")
            if timeline is not None:  # one more at each promotion
                lines.append(f"timeline {timeline:.0f}")
        elif patroni.value(__name__="patroni_replica") == 1:
            pool = "read_pool"
            # A synchronous standby: a commit waits for it, so it may be promoted losing
            # none. In quorum mode (postgres/patroni.yml) any one of those named will do.
            if patroni.value(__name__="patroni_postgres_streaming") == 0:
                lines.append("replica, not streaming")
            elif patroni.value(__name__="patroni_quorum_standby") == 1:
                lines.append("replica, sync (quorum)")
            elif patroni.value(__name__="patroni_sync_standby") == 1:
                lines.append("replica, sync")
            else:
                lines.append("replica")
            # Seconds from its own exporter; bytes from the primary's, which names it.
            lag = pg.value(instance=name, __name__="pg_replication_lag_seconds")
            sent = pg.where(__name__="pg_stat_replication_pg_wal_lsn_diff", application_name=name)
            lag_bytes = max((value for _, value in sent), default=None)
            behind = [f"{lag:.1f} s"] if lag is not None else []
            if lag_bytes is not None:
                behind.append(_bytes(lag_bytes))
            if behind:
                lines.append(", ".join(behind) + " behind")
            if state == UP and ((lag or 0) > LAG_SECONDS or (lag_bytes or 0) > LAG_BYTES):
                state = LAGGING
        elif self.scraped("patroni", name) is False:
            lines.append("Patroni not answering")
        pool_state = self.balancer_state("db-lb", pool, name) if pool else None
        if pool_state not in (UP, None):
            note = f"{pool.replace('_', ' ')}: {pool_state}"  # "read pool: down"
        elif patroni.value(__name__="patroni_xlog_paused") == 1:
            note = "replay paused"
        else:
            note = ""
        self.box(name, INFRA, state, lines, note)

    def _pg_state(self, pg_up: float | None, instance: str) -> str:
        if self.scraped("postgres", instance) is not True:
            return NO_DATA
        return UP if pg_up == 1 else DOWN

    def etcd(self) -> None:
        scraped = {member: self.scraped("etcd", member) for member in ETCD_MEMBERS}
        members_up = [member for member, ok in scraped.items() if ok]
        down = [member for member in ETCD_MEMBERS if member not in members_up]
        # A member cut off from the others says it has no leader: one that has is enough.
        leader = any(value == 1 for _, value in self.q["etcd"])
        if set(scraped.values()) == {None}:  # not scraped at all (or not yet)
            self.box("etcd", INFRA, NO_DATA, ["Patroni's leader key"])
            return
        self.box(
            "etcd",
            INFRA,
            UP if leader and len(members_up) > len(ETCD_MEMBERS) // 2 else DOWN,
            ["Patroni's leader key", f"{len(members_up)} of {len(ETCD_MEMBERS)} members up"]
            + ([f"down: {', '.join(down)}"] if down else [])
            + ["a leader elected" if leader else "no leader"],
        )

    def cache(self) -> None:
        redis = self.q["redis"]
        looked_up = self.q["cache"]
        hits, total = looked_up.total(result="hit"), looked_up.total()
        lines = [f"hit ratio {100 * hits / total:.0f}%" if total else "no lookups"]
        used = redis.value(instance="redis", __name__="redis_memory_used_bytes")
        most = redis.value(instance="redis", __name__="redis_memory_max_bytes")
        if used is not None:
            lines.append(f"{_bytes(used)} of {_bytes(most)}" if most else _bytes(used))
        evicted = redis.value(instance="redis", __name__="redis_evicted_keys_total")
        if evicted is not None:
            per_second = self.q["evictions"].value(instance="redis") or 0
            lines.append(f"{evicted:.0f} evicted" + (f" ({_rate(per_second)}/s)" if per_second else ""))
        up = redis.value(instance="redis", __name__="redis_up")
        state = NO_DATA if self.scraped("redis", "redis") is not True else (UP if up == 1 else DOWN)
        lookups = self.q["cache_now"].value()
        if lookups is not None:
            lines.insert(1, f"{_rate(lookups)} lookups/s")
        self.box("redis", INFRA, state, lines)
        for node in PLATFORM_NODES:
            self.arrow(f"{node}>redis", lookups, "keys/s")
        locks_up = redis.value(instance="redis-locks", __name__="redis_up")
        locks = (
            NO_DATA if self.scraped("redis", "redis-locks") is not True else (UP if locks_up == 1 else DOWN)
        )
        self.box("redis-locks", INFRA, locks, ["cron's slot claims"])

    def broker_and_consumers(self) -> None:
        queues = self.q["queues"]
        scraped = {node: self.scraped("rabbitmq", node) for node in BROKER_NODES}
        nodes_up = [node for node, ok in scraped.items() if ok]
        # None: no figures at all (Prometheus itself is away, or has not scraped yet).
        up = None if set(scraped.values()) == {None} else len(nodes_up) > len(BROKER_NODES) // 2
        depth = {lbl["queue"]: v for lbl, v in queues.where(__name__="rabbitmq_detailed_queue_messages")}
        consumers = {lbl["queue"]: v for lbl, v in queues.where(__name__="rabbitmq_detailed_queue_consumers")}
        dead = sum(v for name, v in depth.items() if name.endswith(DEAD_LETTER))
        work = sorted(queue for queues in WORK_QUEUES.values() for queue in queues)
        lines = [f"{name}: {depth.get(name, 0):.0f} waiting" for name in work]
        lines.append(f"dead letters: {dead:.0f}")
        down = [node for node in BROKER_NODES if node not in nodes_up]
        lines.append(
            f"{len(nodes_up)} of {len(BROKER_NODES)} nodes up"
            + (f" ({', '.join(down)} down)" if down else "")
        )
        self.box("rabbitmq", INFRA, UP if up else (DOWN if up is False else NO_DATA), lines)
        for box, queues_taken in WORK_QUEUES.items():
            counts = {queue: consumers.get(queue) or 0 for queue in queues_taken}
            if not up:
                state = NO_DATA
            elif box == "analytics-consumer" and not any(counts.values()):
                state = OFF
            else:
                state = UP if all(counts.values()) else DOWN  # a queue nobody takes: its work waits
            note = "make analytics" if state == OFF else ""
            if len(counts) == 1:
                [(queue, count)] = counts.items()
                line = f"{count:.0f} consumers on {queue}"
            else:  # one line: the box has room for one
                line = ", ".join(f"{count:.0f} on {queue}" for queue, count in counts.items())
            self.box(box, CODE, state, [line], note)
        # The relay: the outbox's backlog, as the platform reads it.
        platform = self.q["platform_state"]
        read = platform.value(__name__="platform_state_read_ok")
        waiting = platform.value(__name__="platform_outbox_waiting")
        oldest = platform.value(__name__="platform_outbox_oldest_seconds")
        if read != 1 or waiting is None:
            self.box("relay", CODE, NO_DATA, ["outbox: unknown"])
        else:
            late = waiting and (oldest or 0) > 10
            self.box(
                "relay",
                CODE,
                LATE if late else UP,
                [f"outbox: {waiting:.0f} waiting", f"oldest {oldest:.0f} s"],
            )

    def cron(self) -> None:
        slots = sorted(
            (
                {"task": lbl.get("task", ""), "by": lbl.get("published_by", ""), "slot": v}
                for lbl, v in self.q["slots"]
            ),
            key=lambda slot: -slot["slot"],
        )
        latest: dict[str, dict] = {}
        for slot in slots:  # newest first: keep each job's newest slot
            latest.setdefault(slot["task"], slot)
        heartbeat = latest.get("heartbeat")
        if heartbeat is None:
            self.box("cron", CODE, NO_DATA, ["no heartbeat yet"])
        else:
            age = self.now - heartbeat["slot"]
            state = UP if age < HEARTBEAT_LATE else LATE
            self.box("cron", CODE, state, [f"heartbeat {_ago(age)}", f"by {heartbeat['by']}"])
        self.boxes["cron"]["jobs"] = [
            {"task": task, "by": slot["by"], "slot": slot["slot"], "ago": _ago(self.now - slot["slot"])}
            for task, slot in sorted(latest.items())
        ]

    def cdn(self) -> None:
        up = self.scraped("cdn")
        now = self.q["cdn_now"]
        window = self.q["cdn_5m"]
        total = window.total()
        # Answered without asking the origin: a file held since the build, or a cached picture.
        held = sum(window.total(source=s) for s in ("local", "hit", "stale", "updating", "revalidated"))
        lines = [
            f"{_rate(now.total())} req/s",
            f"hit ratio {100 * held / total:.0f}%" if total else "no requests yet",
        ]
        self.box("cdn", INFRA, UP if up else (DOWN if up is False else NO_DATA), lines)
        self.arrow("requests>cdn", now.total() if up else None)
        misses = sum(now.total(source=s) for s in ("miss", "expired", "bypass"))
        self.arrow("cdn>edge-lb", misses if up else None)

    def spark(self) -> None:
        spark = self.q["spark"]
        master = self.scraped("spark", "spark-master")
        if not master:
            self.box("spark-master", INFRA, OFF, ["not started"], "make analytics")
        else:
            workers = spark.value(__name__="metrics_master_aliveWorkers_Value") or 0
            apps = spark.value(__name__="metrics_master_apps_Value") or 0
            self.box("spark-master", INFRA, UP, [f"{workers:.0f} workers alive", f"{apps:.0f} jobs running"])
        worker = self.scraped("spark-worker")
        if not worker:
            self.box("spark-worker", INFRA, OFF, ["not started"], "make analytics")
        else:
            used = spark.total(__name__="metrics_worker_coresUsed_Value")
            free = spark.total(__name__="metrics_worker_coresFree_Value")
            self.box("spark-worker", INFRA, UP, [f"{used:.0f} of {used + free:.0f} cores busy"])


def snapshot() -> dict[str, Any]:
    """Every box's state and figures, or a page-wide notice when Prometheus is away."""
    now = time.time()
    try:
        answers = query_all()
    except PrometheusUnavailable as exc:
        return {"generated_at": now, "prometheus": str(exc), "boxes": {}, "arrows": {}, "missing": []}
    return {"generated_at": now, "prometheus": None, **Snapshot(answers, now).build()}


def charts() -> dict[str, Any]:
    """The last CHART_MINUTES of each chart's series, on one time axis."""
    end = math.floor(time.time() / CHART_STEP) * CHART_STEP
    start = end - CHART_MINUTES * 60
    times = list(range(start, end + 1, CHART_STEP))
    result: dict[str, Any] = {"times": times, "charts": {}, "prometheus": None}
    for name, chart in CHARTS.items():
        try:
            found = _ask(
                "query_range", {"query": chart["query"], "start": start, "end": end, "step": CHART_STEP}
            )
        except PrometheusUnavailable as exc:
            return {"times": [], "charts": {}, "prometheus": str(exc)}
        series = []
        for item in sorted(found, key=lambda item: str(item["metric"].get(chart["label"] or "", ""))):
            points = {int(float(t)): float(v) for t, v in item["values"]}
            values = [points.get(t) for t in times]
            clean = [None if v is None or math.isnan(v) or math.isinf(v) else round(v, 3) for v in values]
            label = item["metric"].get(chart["label"], "") if chart["label"] else chart["title"]
            series.append({"label": label, "values": clean})
        result["charts"][name] = {"title": chart["title"], "unit": chart["unit"], "series": series}
    return result
