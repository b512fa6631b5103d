"""Where the dashboard draws each box and arrow: the article's diagram, left to right
as a request flows (requests -> edge -> web -> platform pool -> platform -> data tier,
the off-line side below). web.dashboard fills in each box's state and figures and
each arrow's traffic; the template draws them in one SVG (viewBox WIDTH x HEIGHT).
"""

from dataclasses import dataclass

from web.dashboard import CODE, EXTERNAL, INFRA

WIDTH, HEIGHT = 1550, 660


@dataclass(frozen=True)
class Box:
    id: str
    title: str
    kind: str
    x: int
    y: int
    w: int = 150
    h: int = 90

    @property
    def left(self) -> tuple[int, int]:
        return self.x, self.y + self.h // 2

    @property
    def right(self) -> tuple[int, int]:
        return self.x + self.w, self.y + self.h // 2

    @property
    def top(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y

    @property
    def bottom(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h


@dataclass(frozen=True)
class Arrow:
    id: str  # web.dashboard's name for its traffic; arrows sharing one show it once
    source: str  # the box it leaves: drawn idle while that box is down
    x1: int
    y1: int
    x2: int
    y2: int
    labelled: bool = True

    @property
    def label_at(self) -> tuple[int, int]:
        return (self.x1 + self.x2) // 2, (self.y1 + self.y2) // 2 - 6


_boxes = [
    Box("requests", "Requests", EXTERNAL, 10, 275, 110, 80),
    Box("edge-lb", "Edge balancer", INFRA, 180, 275, 140, 80),
    Box("cdn", "CDN host", INFRA, 180, 490, 140, 90),
    Box("web1", "web1", CODE, 385, 110, 150, 100),
    Box("web2", "web2", CODE, 385, 265, 150, 100),
    Box("web3", "web3", CODE, 385, 420, 150, 100),
    Box("platform-lb", "Platform pool", INFRA, 600, 275, 150, 80),
    Box("platform1", "platform1", CODE, 815, 170, 150, 100),
    Box("platform2", "platform2", CODE, 815, 360, 150, 100),
    Box("db-lb", "Database pools", INFRA, 1035, 35, 165, 85),
    Box("redis", "Cache (Redis, LRU)", INFRA, 1035, 165, 165, 100),
    Box("rabbitmq", "RabbitMQ (3 nodes)", INFRA, 1035, 315, 165, 150),
    Box("cron", "cron1 + cron2", CODE, 1035, 490, 165, 80),
    Box("redis-locks", "Redis (cron's locks)", INFRA, 1035, 595, 165, 55),
    # The Postgres members, one above the other (any one may be the primary), and beside
    # them the etcd their Patroni agree through.
    Box("postgres1", "postgres1", INFRA, 1235, 5, 145, 84),
    Box("postgres2", "postgres2", INFRA, 1235, 95, 145, 84),
    Box("postgres3", "postgres3", INFRA, 1235, 185, 145, 84),
    Box("etcd", "etcd (3 members)", INFRA, 1400, 95, 140, 100),
    Box("relay", "Outbox relay", CODE, 1235, 280, 145, 70),
    Box("consumer", "Consumers (Celery)", CODE, 1235, 368, 145, 57),
    Box("click-consumer", "Click consumer", CODE, 1235, 437, 145, 57),
    Box("analytics-consumer", "Map-reduce driver", CODE, 1400, 324, 140, 70),
    Box("spark-master", "Spark master", INFRA, 1400, 420, 140, 75),
    Box("spark-worker", "Spark worker", INFRA, 1400, 525, 140, 70),
]
BOXES = {box.id: box for box in _boxes}


def _arrow(name: str, start: tuple[int, int], end: tuple[int, int], labelled: bool = True) -> Arrow:
    return Arrow(name, name.split(">")[0], *start, *end, labelled)


def _arrows() -> list[Arrow]:
    b = BOXES
    arrows = [
        _arrow("requests>edge-lb", b["requests"].right, b["edge-lb"].left),
        _arrow("requests>cdn", b["requests"].bottom, b["cdn"].left),
        _arrow("cdn>edge-lb", b["cdn"].top, b["edge-lb"].bottom),
    ]
    for web in ("web1", "web2", "web3"):
        arrows.append(_arrow(f"edge-lb>{web}", b["edge-lb"].right, b[web].left))
        # The platform pool cannot tell which web node called: its box shows the total.
        arrows.append(_arrow(f"{web}>platform-lb", b[web].right, b["platform-lb"].left, labelled=False))
    for node in ("platform1", "platform2"):
        arrows.append(_arrow(f"platform-lb>{node}", b["platform-lb"].right, b[node].left))
        arrows.append(_arrow(f"{node}>db-lb", b[node].right, b["db-lb"].left, labelled=False))
        arrows.append(_arrow(f"{node}>redis", b[node].right, b["redis"].left, labelled=False))
        arrows.append(_arrow(f"{node}>rabbitmq", b[node].right, b["rabbitmq"].left, labelled=False))
    for member in ("postgres1", "postgres2", "postgres3"):
        arrows.append(_arrow(f"db-lb>{member}", b["db-lb"].right, b[member].left, labelled=False))
    arrows += [
        _arrow("relay>rabbitmq", b["relay"].left, b["rabbitmq"].right, labelled=False),
        _arrow("rabbitmq>consumer", b["rabbitmq"].right, b["consumer"].left, labelled=False),
        _arrow("rabbitmq>click-consumer", b["rabbitmq"].right, b["click-consumer"].left, labelled=False),
        # Straight across, between the relay and the Celery consumers.
        _arrow(
            "rabbitmq>analytics-consumer",
            (b["rabbitmq"].right[0], b["analytics-consumer"].left[1]),
            b["analytics-consumer"].left,
            labelled=False,
        ),
        _arrow("cron>rabbitmq", b["cron"].top, b["rabbitmq"].bottom, labelled=False),
        _arrow("cron>redis-locks", b["cron"].bottom, b["redis-locks"].top, labelled=False),
        _arrow(
            "analytics-consumer>spark-master",
            b["analytics-consumer"].bottom,
            b["spark-master"].top,
            labelled=False,
        ),
        _arrow("spark-master>spark-worker", b["spark-master"].bottom, b["spark-worker"].top, labelled=False),
    ]
    return arrows


ARROWS = _arrows()


@dataclass(frozen=True)
class Drill:
    command: str
    expect: str


# The failure drills (README: Break it and watch), and what the dashboard shows.
DRILLS = [
    Drill("make kill NODE=web2", "web2 turns down; its traffic moves to web1 and web3 within seconds."),
    Drill("make start NODE=web2", "web2 comes back up and takes its share again."),
    Drill(
        "make drain SERVER=web2",
        "web2 shows draining: no new requests, none fail. Back: make enable SERVER=web2.",
    ),
    Drill(
        "make pause NODE=web3",
        "web3 shows frozen: it accepts connections, answers nothing. Back: make unpause.",
    ),
    Drill("make kill NODE=platform1", "platform1 turns down; platform2 takes every call; no page fails."),
    Drill(
        "make pause-replay",
        "The replicas show lagging (replay paused); reads still see your own writes."
        " Back: make resume-replay.",
    ),
    Drill(
        "make kill NODE=postgres2",
        "With postgres2 a replica (its box says): it turns down, reads move to the other replica,"
        " writes go on. Back: make start NODE=postgres2.",
    ),
    Drill(
        "make kill-primary",
        "The primary turns down; within about 20 s a replica shows primary, on the next timeline."
        " Meanwhile writes get 503 and Retry-After; pages still load. Back: the make start it prints;"
        " the old primary rejoins as a replica.",
    ),
    Drill(
        "make kill NODE=rabbitmq2",
        "RabbitMQ shows 2 of 3 nodes up; the queues it led move to the others; nothing is lost.",
    ),
    Drill(
        "make kill NODE=redis",
        "The cache turns down; pages still load, from Postgres, slower. Back: make start.",
    ),
    Drill(
        "make stop NODE=consumer",
        "Fan-out waits in the jobs queue (its depth grows); nothing is lost. Back: make start.",
    ),
    Drill("make kill NODE=cron1", "cron2 publishes every slot: the heartbeat's publisher changes."),
    Drill("make loadtest", "Locust's users: the arrows thicken, the charts climb (UI on port 8089)."),
    Drill("make analytics", "The Spark boxes come up; make mapreduce runs a job."),
]
