"""No single point of failure in the database tier (README: Failover). Under a Locust
load (load.py), a replica is killed, and the primary is killed or stopped:

- no GET fails: while no member is the primary, GETs are answered from the read pool;
- writes are refused (a 503 with a Retry-After) only while a replica is promoted, and
  the members send them again; every write acknowledged before, during and after is
  stored exactly once (synchronous replication: the promoted replica has them all);
- the old primary comes back as a replica of the new one (pg_rewind), on its timeline.

The figures (seconds until the promotion, the window in which writes were refused, how
long the old primary took to rejoin) are printed for the benchmark report."""

import time
import uuid

import pytest

from load import assert_nothing_failed_or_lost, background_load, pool
from stack import Visitor, broken, postgres_members, primary, replicas, wait_for

pytestmark = pytest.mark.usefixtures("load_accounts_closed")

# How long writes may be refused, at most, when the primary is lost: killed, it holds
# Patroni's leader key until its ttl (20 s, the least Patroni allows) expires; stopped,
# its Patroni hands the key over at once. The margin is for a busy machine.
WRITES_PAUSED_AT_MOST = {"kill": 40, "stop": 20}


def refused_window(load: dict) -> tuple[float, int]:
    """From the first write refused for now (503) to the last, in seconds; how many."""
    refused = [at for at, _ in load["writes"]["refused"]]
    return (max(refused) - min(refused) if refused else 0.0), len(refused)


def test_a_replica_killed_under_load_fails_no_request_and_refuses_no_write(stats):
    """Reads move to the other replica; writes go on, acknowledged by the replica left
    (a quorum of one of the two), and the killed one catches up once back."""
    replica = replicas()[0]
    with background_load(stats) as load, broken(replica, "kill") as breakage:
        wait_for(
            lambda: pool("db-lb", "read_pool")[replica].startswith("DOWN"), timeout=30, interval=0.2,
            what=f"the read pool to take {replica} out",
        )  # fmt: skip
        down_after = time.monotonic() - breakage.broken_at
        breakage.mend()
        wait_for(
            lambda: pool("db-lb", "read_pool")[replica] == "UP", timeout=120,
            what=f"{replica} back in the read pool",
        )  # fmt: skip
        back_after = time.monotonic() - breakage.mended_at
    print(
        f"\nkill {replica} under load: {load['requests']} requests, {load['failures']} failed, "
        f"{len(load['writes']['refused'])} writes refused; out of the read pool after {down_after:.1f}s, "
        f"back {back_after:.1f}s after it was started"
    )
    assert_nothing_failed_or_lost(load)
    assert load["writes"]["refused"] == [], "no write waits for a replica while the other acknowledges"


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_the_primary_lost_under_load_fails_no_get_and_loses_no_acknowledged_write(stats, edge, how):
    old = primary()
    writer_name = f"failover_{uuid.uuid4().hex[:10]}"
    writer = Visitor(edge).sign_up(writer_name)
    before = f"Written before the failover {uuid.uuid4().hex[:8]}"
    writer.post_story(before)

    def promoted() -> str | None:
        up = [server for server, status in pool("db-lb", "write_pool").items() if status == "UP"]
        return up[0] if up and up != [old] else None

    with background_load(stats) as load, broken(old, how) as breakage:
        new = wait_for(promoted, timeout=60, interval=0.2, what="a replica promoted, in the write pool")
        promoted_after = time.monotonic() - breakage.broken_at
        breakage.mend()
        wait_for(
            lambda: pool("db-lb", "read_pool")[old] == "UP", timeout=180, what=f"{old} back, as a replica"
        )
        back_after = time.monotonic() - breakage.mended_at
    window, refusals = refused_window(load)
    print(
        f"\n{how} the primary ({old}) under load: {load['requests']} requests, {load['failures']} failed; "
        f"{new} promoted after {promoted_after:.1f}s; writes refused for {window:.1f}s ({refusals} refusals, "
        f"each sent again); {old} back as a replica {back_after:.1f}s after it was started"
    )
    assert_nothing_failed_or_lost(load)
    assert all(retry_after for _, retry_after in load["writes"]["refused"]), "each 503 said when to retry"
    assert window <= WRITES_PAUSED_AT_MOST[how]
    members = postgres_members()
    assert members[new]["Role"] == "Leader", members
    assert members[old]["State"] == "streaming" and members[old]["TL"] == members[new]["TL"], members
    # Read-your-own-writes across it: the write from before is there, and a new one shows at once.
    assert before in writer.get(f"/u/{writer_name}").text
    after = f"Written after the failover {uuid.uuid4().hex[:8]}"
    writer.post_story(after)
    assert after in writer.get(f"/u/{writer_name}").text
