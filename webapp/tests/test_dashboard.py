"""web.dashboard: how Prometheus' answers become the page's boxes and arrows, and the
views that serve them (the live run is in the system tests: tests/test_dashboard.py)."""

import time

from web import dashboard
from web.dashboard import Samples, Snapshot


def answers(**queries: list[tuple[dict, float]]) -> dict[str, Samples]:
    """Every query of the dashboard answered empty, but those given."""
    return {name: Samples(list(queries.get(name, []))) for name in dashboard.QUERIES}


def up(job: str, instance: str, value: float = 1) -> tuple[dict, float]:
    return {"job": job, "instance": instance}, value


def server(balancer: str, proxy: str, name: str, state: str) -> tuple[dict, float]:
    return {"instance": balancer, "proxy": proxy, "server": name, "state": state}, 1


EDGE_UP = [up("haproxy", "edge-lb")] + [up("web", name) for name in ("web1", "web2", "web3")]


def build(**queries) -> dict:
    return Snapshot(answers(**queries), now=time.time()).build()


def test_a_web_node_is_what_its_balancer_says():
    states = [server("edge-lb", "web", "web1", "UP"), server("edge-lb", "web", "web2", "DRAIN")]
    states.append(server("edge-lb", "web", "web3", "DOWN"))
    boxes = build(up=EDGE_UP, server_state=states)["boxes"]
    assert [boxes[name]["state"] for name in ("web1", "web2", "web3")] == ["up", "draining", "down"]


def check(balancer: str, proxy: str, name: str, state: str) -> tuple[dict, float]:
    return {"instance": balancer, "proxy": proxy, "server": name, "state": state}, 1


def test_a_node_failing_its_health_checks_is_down_before_its_balancer_takes_it_out():
    states = [server("edge-lb", "web", name, "UP") for name in ("web1", "web2", "web3")]
    checks = [check("edge-lb", "web", "web1", "L7OK"), check("edge-lb", "web", "web2", "L4TOUT")]
    boxes = build(up=EDGE_UP, server_state=states, server_check=checks)["boxes"]
    assert boxes["web2"]["state"] == "down"
    assert boxes["web2"]["note"] == "failing its health checks"
    assert boxes["web1"]["state"] == "up"


def test_a_node_prometheus_cannot_reach_that_serves_nothing_is_down_before_its_balancer_notices():
    scraped = [up("haproxy", "edge-lb"), up("web", "web1"), up("web", "web2", 0), up("web", "web3")]
    states = [server("edge-lb", "web", name, "UP") for name in ("web1", "web2", "web3")]
    data = build(up=scraped, server_state=states)
    assert data["boxes"]["web2"]["state"] == "down"
    assert data["boxes"]["web2"]["note"] == "not answering"
    assert data["missing"] == ["the web nodes' /metrics: no answer from web2"]


def test_a_node_prometheus_cannot_reach_that_still_serves_stays_as_its_balancer_sees_it():
    """Under load a scrape may time out while the node serves: it stays up, named."""
    scraped = [up("haproxy", "edge-lb"), up("web", "web1"), up("web", "web2", 0), up("web", "web3")]
    states = [server("edge-lb", "web", name, "UP") for name in ("web1", "web2", "web3")]
    http = [({"instance": "edge-lb", "proxy": "web", "server": "web2", "code": "2xx"}, 3.0)]
    data = build(up=scraped, server_state=states, server_http=http)
    assert data["boxes"]["web2"]["state"] == "up"
    assert data["boxes"]["web2"]["note"] == "not answering Prometheus"


def test_a_node_whose_name_is_gone_from_dns_is_down_not_in_maintenance():
    states = [server("edge-lb", "web", "web2", "MAINT")]
    boxes = build(up=EDGE_UP, server_state=states)["boxes"]
    assert boxes["web2"]["state"] == "down"
    assert boxes["web2"]["note"] == "out of rotation"


def test_traffic_along_each_arrow_and_the_node_that_served_last():
    http = [
        ({"instance": "edge-lb", "proxy": "web", "server": "web1", "code": "2xx"}, 4.0),
        ({"instance": "edge-lb", "proxy": "web", "server": "web1", "code": "5xx"}, 1.0),
        ({"instance": "edge-lb", "proxy": "web", "server": "web3", "code": "2xx"}, 2.0),
    ]
    last = [
        ({"instance": "edge-lb", "proxy": "web", "server": "web1"}, 3.0),
        ({"instance": "edge-lb", "proxy": "web", "server": "web3"}, 0.0),
    ]
    states = [server("edge-lb", "web", name, "UP") for name in ("web1", "web2", "web3")]
    data = build(up=EDGE_UP, server_state=states, server_http=http, server_last=last)
    assert data["arrows"]["edge-lb>web1"] == {"rate": 5.0, "label": "5.0 req/s"}
    assert data["arrows"]["edge-lb>web2"]["rate"] == 0
    assert data["boxes"]["web1"]["lines"] == ["5.0 req/s", "1.0 errors/s"]
    assert data["boxes"]["web3"].get("latest") is True
    assert "latest" not in data["boxes"]["web1"]


def test_reads_go_to_the_primary_while_the_replica_is_out_of_the_read_pool():
    scraped = [up("haproxy", "db-lb"), up("postgres", "postgres"), up("postgres", "postgres-replica")]
    states = [server("db-lb", "read_pool", "replica", "DOWN"), server("db-lb", "read_pool", "primary", "UP")]
    pg = [
        ({"__name__": "pg_up", "instance": "postgres"}, 1),
        ({"__name__": "pg_up", "instance": "postgres-replica"}, 1),
    ]
    boxes = build(up=scraped, server_state=states, postgres=pg)["boxes"]
    assert boxes["db-lb"]["lines"][0] == "reads → primary (backup)"
    assert boxes["postgres-replica"]["note"] == "out of the read pool (down)"


def test_a_replica_far_behind_is_lagging():
    scraped = [up("postgres", "postgres"), up("postgres", "postgres-replica")]
    pg = [
        ({"__name__": "pg_up", "instance": "postgres"}, 1),
        ({"__name__": "pg_up", "instance": "postgres-replica"}, 1),
        ({"__name__": "pg_replication_lag_seconds", "instance": "postgres-replica"}, 42.0),
        ({"__name__": "pg_stat_replication_pg_wal_lsn_diff", "instance": "postgres"}, 3 * 1024 * 1024),
    ]
    boxes = build(up=scraped, postgres=pg)["boxes"]
    assert boxes["postgres-replica"]["state"] == "lagging"
    assert boxes["postgres-replica"]["lines"] == ["lag 42.0 s", "3.0 MB behind"]


def test_cron_is_late_when_no_heartbeat_ran_for_minutes_and_names_each_jobs_publisher():
    now = time.time()
    slots = [
        ({"task": "heartbeat", "published_by": "cron1"}, now - 600),
        ({"task": "heartbeat", "published_by": "cron2"}, now - 300),
        ({"task": "rollup-hourly", "published_by": "cron1"}, now - 900),
    ]
    cron = Snapshot(answers(slots=slots), now=now).build()["boxes"]["cron"]
    assert cron["state"] == "late"
    assert cron["lines"] == ["heartbeat 5 min ago", "by cron2"]
    assert [(job["task"], job["by"]) for job in cron["jobs"]] == [
        ("heartbeat", "cron2"),
        ("rollup-hourly", "cron1"),
    ]


def test_spark_is_off_until_the_analytics_profile_runs():
    boxes = build(up=[up("spark", "spark-master", 0)])["boxes"]
    assert boxes["spark-master"]["state"] == "off"
    assert boxes["spark-master"]["note"] == "make analytics"


def test_a_missing_prometheus_is_said_plainly(client, settings):
    settings.PROMETHEUS_URL = "http://127.0.0.1:1"  # nothing listens there
    data = client.get("/dashboard/data").json()
    assert data["prometheus"].startswith("Prometheus did not answer")
    assert data["boxes"] == {}
    charts = client.get("/dashboard/charts").json()
    assert charts["prometheus"].startswith("Prometheus did not answer")


def test_the_data_may_be_kept_for_a_second_by_anyone(client):
    response = client.get("/dashboard/data")
    assert response["Cache-Control"] == "public, max-age=1"
    assert "Set-Cookie" not in response


def test_the_page_draws_every_box_and_lists_the_drills(client):
    html = client.get("/dashboard").content.decode()
    for name in (
        "requests",
        "edge-lb",
        "web1",
        "platform-lb",
        "postgres-replica",
        "redis",
        "rabbitmq",
        "cdn",
    ):
        assert f'data-testid="box-{name}"' in html
    assert "make kill NODE=web2" in html
    assert "vendor/uplot/uPlot.iife" in html


def test_a_node_that_accepts_connections_and_answers_nothing_is_frozen():
    """`make pause NODE=web2`: its health checks connect, then time out (L7TOUT)."""
    states = [server("edge-lb", "web", "web1", "UP"), server("edge-lb", "web", "web2", "DOWN")]
    checks = [check("edge-lb", "web", "web1", "L7OK"), check("edge-lb", "web", "web2", "L7TOUT")]
    boxes = build(up=EDGE_UP, server_state=states, server_check=checks)["boxes"]
    assert boxes["web2"]["state"] == "frozen"
    assert boxes["web2"]["note"] == "accepts connections, answers nothing"
    assert boxes["web1"]["state"] == "up"


def test_the_celery_box_stands_for_both_celery_consumers_and_is_down_when_a_queue_has_none():
    """`consumer` takes `jobs`, `export-consumer` takes `exports`: with either gone, its
    queue's work waits, and the box says which."""

    def queue(name: str, family: str, value: float) -> tuple[dict, float]:
        return {"__name__": f"rabbitmq_detailed_queue_{family}", "queue": name}, value

    rabbitmq = [up("rabbitmq", node) for node in ("rabbitmq1", "rabbitmq2", "rabbitmq3")]
    both = [queue("jobs", "consumers", 2), queue("exports", "consumers", 1), queue("exports", "messages", 3)]
    boxes = build(up=rabbitmq, queues=both)["boxes"]
    assert (boxes["consumer"]["state"], boxes["consumer"]["lines"]) == ("up", ["2 on jobs, 1 on exports"])
    assert "exports: 3 waiting" in boxes["rabbitmq"]["lines"]
    boxes = build(up=rabbitmq, queues=[queue("jobs", "consumers", 2)])["boxes"]
    assert (boxes["consumer"]["state"], boxes["consumer"]["lines"]) == ("down", ["2 on jobs, 0 on exports"])
    assert boxes["click-consumer"]["lines"] == ["0 consumers on clicks"]


def test_the_broker_serves_while_most_of_its_nodes_are_up():
    """`make kill NODE=rabbitmq2`: the quorum queues go on with two nodes of three."""
    two = [up("rabbitmq", "rabbitmq1"), up("rabbitmq", "rabbitmq2", 0), up("rabbitmq", "rabbitmq3")]
    boxes = build(up=two)["boxes"]
    assert boxes["rabbitmq"]["state"] == "up"
    assert boxes["rabbitmq"]["lines"][-1] == "2 of 3 nodes up (rabbitmq2 down)"
    one = [up("rabbitmq", "rabbitmq1"), up("rabbitmq", "rabbitmq2", 0), up("rabbitmq", "rabbitmq3", 0)]
    assert build(up=one)["boxes"]["rabbitmq"]["state"] == "down"
