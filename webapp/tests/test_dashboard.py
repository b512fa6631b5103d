"""web.dashboard: how Prometheus' answers become the page's boxes and arrows, and the
views that serve them (the live run is in the system tests: tests/test_dashboard.py)."""

import time

from web import dashboard, diagram
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


MEMBERS = ("postgres1", "postgres2", "postgres3")


def metric(family: str, instance: str, value: float, **labels: str) -> tuple[dict, float]:
    return {"__name__": family, "instance": instance, **labels}, value


def cluster(primary: str) -> dict[str, list]:
    """Three members up, `primary` and two replicas, each in its pool, as Prometheus has them."""
    answers: dict[str, list] = {"up": [up("haproxy", "db-lb")], "postgres": [], "patroni": []}
    answers["server_state"] = []
    for name in MEMBERS:
        is_primary = name == primary
        answers["up"] += [up("postgres", name), up("patroni", name)]
        answers["postgres"].append(metric("pg_up", name, 1))
        answers["patroni"].append(metric("patroni_primary", name, is_primary))
        answers["patroni"].append(metric("patroni_replica", name, not is_primary))
        answers["server_state"] += [
            server("db-lb", "write_pool", name, "UP" if is_primary else "DOWN"),
            server("db-lb", "read_pool", f"{name}-primary", "UP" if is_primary else "DOWN"),
            server("db-lb", "read_pool", name, "DOWN" if is_primary else "UP"),
        ]
    return answers


def replaced(samples: list, old: tuple[dict, float], new: tuple[dict, float]) -> list:
    return [new if sample == old else sample for sample in samples]


def test_each_member_shows_its_role_from_patroni():
    answers = cluster(primary="postgres2")
    answers["patroni"] += [
        metric("patroni_postgres_timeline", "postgres2", 3),
        metric("patroni_quorum_standby", "postgres1", 1),
    ]
    sessions = [
        ({"instance": "db-lb", "proxy": "write_pool", "server": "postgres2"}, 5),
        ({"instance": "db-lb", "proxy": "read_pool", "server": "postgres1"}, 2),
        ({"instance": "db-lb", "proxy": "read_pool", "server": "postgres3"}, 1),
    ]
    data = build(server_sessions=sessions, **answers)
    boxes = data["boxes"]
    assert [boxes[name]["state"] for name in MEMBERS] == ["up", "up", "up"]
    assert boxes["postgres2"]["lines"] == ["primary: every write", "timeline 3"]
    assert boxes["postgres1"]["lines"] == ["replica, sync (quorum)"]
    assert boxes["postgres3"]["lines"] == ["replica"]
    assert boxes["db-lb"]["lines"] == ["reads → 2 replicas", "writes → postgres2", "5 write + 3 read conns"]
    assert [data["arrows"][f"db-lb>{name}"]["rate"] for name in MEMBERS] == [2, 5, 1]


def test_reads_go_to_the_primary_while_both_replicas_are_out_of_the_read_pool():
    answers = cluster(primary="postgres2")
    for name in ("postgres1", "postgres3"):
        answers["server_state"] = replaced(
            answers["server_state"],
            server("db-lb", "read_pool", name, "UP"),
            server("db-lb", "read_pool", name, "DOWN"),
        )
    boxes = build(**answers)["boxes"]
    assert boxes["db-lb"]["lines"][0] == "reads → primary (backup)"
    assert boxes["postgres1"]["note"] == "read pool: down"
    assert boxes["postgres2"]["note"] == ""


def test_a_killed_primary_is_down_and_writes_go_nowhere_until_a_replica_is_promoted():
    """`make kill-primary`: its exporter answers that Postgres does not, its Patroni
    answers nothing, and the write pool has no server up."""
    answers = cluster(primary="postgres2")
    answers["up"] = replaced(answers["up"], up("patroni", "postgres2"), up("patroni", "postgres2", 0))
    answers["postgres"] = replaced(
        answers["postgres"], metric("pg_up", "postgres2", 1), metric("pg_up", "postgres2", 0)
    )
    answers["patroni"] = [sample for sample in answers["patroni"] if sample[0]["instance"] != "postgres2"]
    answers["server_state"] = replaced(
        answers["server_state"],
        server("db-lb", "write_pool", "postgres2", "UP"),
        server("db-lb", "write_pool", "postgres2", "DOWN"),
    )
    data = build(**answers)
    assert data["boxes"]["postgres2"]["state"] == "down"
    assert data["boxes"]["postgres2"]["lines"] == ["Patroni not answering"]
    assert data["boxes"]["db-lb"]["lines"][:2] == ["reads → 2 replicas", "writes → none"]
    assert data["missing"] == ["Patroni's /metrics: no answer from postgres2"]


def test_a_replica_far_behind_is_lagging():
    answers = cluster(primary="postgres1")
    # Seconds from each replica's exporter; bytes from the primary's, by replica.
    sent = {"family": "pg_stat_replication_pg_wal_lsn_diff", "instance": "postgres1"}
    answers["postgres"] += [
        metric("pg_replication_lag_seconds", "postgres2", 42.0),
        metric("pg_replication_lag_seconds", "postgres3", 0.0),
        metric(**sent, value=3 * 1024 * 1024, application_name="postgres2"),
        metric(**sent, value=0, application_name="postgres3"),
    ]
    answers["patroni"].append(metric("patroni_xlog_paused", "postgres2", 1))
    boxes = build(**answers)["boxes"]
    assert boxes["postgres2"]["state"] == "lagging"
    assert boxes["postgres2"]["lines"] == ["replica", "42.0 s, 3.0 MB behind"]
    assert boxes["postgres2"]["note"] == "replay paused"
    assert boxes["postgres3"]["state"] == "up"
    assert boxes["postgres3"]["lines"] == ["replica", "0.0 s, 0 B behind"]


def test_etcd_agrees_while_most_of_its_members_are_up_and_one_sees_a_leader():
    def etcd(*states: float, leader: float = 1) -> dict:
        members = [f"etcd{i}" for i in (1, 2, 3)]
        scraped = [up("etcd", name, state) for name, state in zip(members, states, strict=True)]
        has_leader = [
            ({"instance": name}, leader) for name, state in zip(members, states, strict=True) if state
        ]
        return build(up=scraped, etcd=has_leader)["boxes"]["etcd"]

    assert etcd(1, 1, 1)["state"] == "up"
    two = etcd(1, 0, 1)
    assert two["state"] == "up"
    assert two["lines"][1:] == ["2 of 3 members up", "down: etcd2", "a leader elected"]
    assert etcd(1, 0, 0)["state"] == "down"
    assert etcd(1, 1, 1, leader=0)["state"] == "down"
    assert build()["boxes"]["etcd"]["state"] == "no data"


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
        "postgres1",
        "postgres2",
        "postgres3",
        "etcd",
        "redis",
        "rabbitmq",
        "cdn",
    ):
        assert f'data-testid="box-{name}"' in html
    assert "make kill NODE=web2" in html
    assert "make kill-primary" in html
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


def test_the_boxes_fit_the_drawing_and_none_overlaps():
    boxes = list(diagram.BOXES.values())
    for box in boxes:
        assert min(box.x, box.y) >= 0, box
        assert box.x + box.w <= diagram.WIDTH and box.y + box.h <= diagram.HEIGHT, box
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
            assert apart, (a.id, b.id)
