"""make bench: a fixed, bounded benchmark of the running stack, written as a report.

    make bench                 # about 5 minutes: bench/report.md and its charts
    make bench-short           # about 2 minutes, fewer seconds a run: reports/bench/

Every comparison is two or more runs side by side in the same minutes, and is
reported as a ratio: on a shared, noisy machine a ratio holds where a single
figure does not. The load generator is wrk, inside the compose network, so that
what is measured is the tiers and not Docker's port forwarding (which is measured
once, on its own). CPU time per request comes from each container's cgroup.
"""

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench import stack
from bench.report import Report
from bench.stack import Run
from tests.stack import Visitor, primary, replicas, wait_for

EDGE = "http://edge-lb:8080"
WEB1 = "http://web1:8000"
PLATFORM_LB = "http://platform-lb:9000"
CDN = "http://cdn:80"
WEB_NODES = ["web1", "web2", "web3"]
# The member pages a run asks for, at random: enough that a flushed cache misses for
# a while, few enough that a warm cache holds them all.
MEMBERS = ("/u/user%d", 1, 300)


class Bench:
    def __init__(self, seconds: float, report: Report) -> None:
        self.seconds = seconds
        self.report = report

    def run(self, label: str, url: str, **options) -> Run:
        """One measured run; printed as it finishes, so a long benchmark shows progress.
        Containers are looked up afresh for each: some sections start them again."""
        options.setdefault("seconds", self.seconds)
        run = stack.wrk(label, url, meter=stack.CpuMeter(), **options)
        print(
            f"  {label:<58} {run.rps:8.1f} req/s  p50 {run.p50_ms:7.1f} ms  p95 {run.p95_ms:7.1f} ms"
            f"  errors {run.errors}",
            flush=True,
        )
        return run

    def warm_up(self, url: str, **options) -> None:
        stack.wrk("warm-up", url, **{**options, "seconds": min(3.0, self.seconds)})

    # --- 1. The tiers, and what a cached page costs --------------------------------
    def tiers(self) -> None:
        token = f"Authorization: Bearer {stack.api_token()}"
        self.warm_up(f"{EDGE}/")
        runs = [
            self.run("trivial view (/healthz), through the edge", f"{EDGE}/healthz"),
            self.run("newest stories (/), through the edge", f"{EDGE}/"),
            self.run("a member page (/u/user123), through the edge", f"{EDGE}/u/user123"),
            self.run("search (/search?q=scale), through the edge", f"{EDGE}/search?q=scale"),
            self.run(
                "the platform call behind /, at platform-lb",
                f"{PLATFORM_LB}/api/v1/stories?limit=30",
                headers=(token,),
            ),
            self.run("the platform's trivial view (/healthz), at platform-lb", f"{PLATFORM_LB}/healthz"),
            self.run(
                "trivial view, host -> published port -> edge",
                "http://127.0.0.1:8080/healthz",
                from_host=True,
            ),
            self.run(
                "newest stories, host -> published port -> edge", "http://127.0.0.1:8080/", from_host=True
            ),
        ]
        self.report.tiers(runs)

    # --- 2. Load balancing ---------------------------------------------------------------
    def load_balancing(self) -> None:
        """The edge's own cost: with web2 and web3 drained, the edge sends everything to
        web1, so the same request, straight to web1 or through the edge, differs only by
        the edge; measured unsaturated (2 connections: the balancer's own latency) and
        saturated (16: what its share of the two cores costs). Then throughput with 1, 2
        and 3 nodes in rotation."""
        pairs: dict[tuple[str, int], list[tuple[Run, Run]]] = {}
        try:
            stack.set_servers("edge-lb", "web", ready=["web1"], drained=["web2", "web3"])
            for path in ("/healthz", "/"):
                for connections in (2, 16):
                    for _ in range(3):  # alternated, so that drift in the machine hits both alike
                        direct = self.run(
                            f"{path} straight to web1, {connections} connections",
                            f"{WEB1}{path}",
                            connections=connections,
                            seconds=self.seconds / 2,
                        )
                        edge = self.run(
                            f"{path} through the edge (web1 alone), {connections} connections",
                            f"{EDGE}{path}",
                            connections=connections,
                            seconds=self.seconds / 2,
                        )
                        pairs.setdefault((path, connections), []).append((direct, edge))
            scaling = []
            for count in (1, 2, 3):
                stack.set_servers("edge-lb", "web", ready=WEB_NODES[:count], drained=WEB_NODES[count:])
                scaling.append(self.run(f"newest stories through the edge, {count} web node(s)", f"{EDGE}/"))
        finally:
            stack.set_servers("edge-lb", "web", ready=WEB_NODES, drained=[])
        self.report.load_balancing(pairs, scaling)

    # --- 3. The cache ----------------------------------------------------------------------
    def caching(self) -> None:
        """Member pages at random among 300: with the cache warm, just flushed, and off.
        With it off, the same pages again with the read pool on the replicas and then on
        the primary (every read reaches Postgres then)."""
        runs: list[tuple[Run, float | None]] = []
        self.warm_up(EDGE, paths=MEMBERS, seconds=self.seconds)
        for label, prepare in (
            ("warm cache", lambda: None),
            ("cache flushed just before", lambda: stack.redis("FLUSHDB")),
        ):
            prepare()
            hits, misses = stack.cache_counts()
            run = self.run(f"member pages, {label}", EDGE, paths=MEMBERS)
            after_hits, after_misses = stack.cache_counts()
            asked = (after_hits - hits) + (after_misses - misses)
            runs.append((run, (after_hits - hits) / asked if asked else None))
        read_pool = []
        primary_now, replicas_now = primary(), replicas()
        try:
            stack.platform_with_cache(enabled=False)
            self.warm_up(EDGE, paths=MEMBERS)
            runs.append(
                (self.run("member pages, cache off (replicas answer reads)", EDGE, paths=MEMBERS), 0.0)
            )
            read_pool.append(runs[-1][0])
            try:
                for replica in replicas_now:
                    stack.haproxy("db-lb", f"set server read_pool/{replica} state maint")
                    stack.haproxy("db-lb", f"shutdown sessions server read_pool/{replica}")
                self.warm_up(EDGE, paths=MEMBERS)
                read_pool.append(
                    self.run("member pages, cache off, primary answers reads", EDGE, paths=MEMBERS)
                )
            finally:
                for replica in replicas_now:
                    stack.haproxy("db-lb", f"set server read_pool/{replica} state ready")
        finally:
            stack.platform_with_cache(enabled=True)
        self.report.caching(runs, read_pool, primary_now, replicas_now)

    # --- 4. The CDN ---------------------------------------------------------------------------
    def cdn(self) -> None:
        """A member's picture from the CDN host's copy, and the same picture from the site."""
        path = stack.picture_path()
        self.run("warm-up", f"{CDN}/{path}", host="static.localhost", seconds=1)
        runs = [
            self.run("a member's picture, from the CDN host", f"{CDN}/{path}", host="static.localhost"),
            self.run(
                "the same picture, from the site (edge, web, platform)",
                f"{EDGE}/{path.removeprefix('media/')}",
            ),
        ]
        self.report.cdn(runs)

    # --- 5. Fan-out: posting costs the same whoever follows ----------------------------------
    def fan_out(self) -> None:
        """Posts alternately as the demo world's most followed member and as a new member
        nobody follows, through the site's form; for the celebrity, how long until the
        off-line fan-out has reached every follower. The posts are deleted afterwards."""
        edge = stack.edge_url()
        celebrity = Visitor(edge, load_generator=True).log_in("user1")
        nobody = Visitor(edge, load_generator=True).sign_up(f"{stack.MEMBER_PREFIX}{uuid.uuid4().hex[:10]}")
        posting: dict[str, list[float]] = {"celebrity": [], "nobody": []}
        delivered: list[float] = []
        followers = 0
        posted: list[tuple[Visitor, int]] = []
        try:
            for number in range(max(3, int(self.seconds))):
                for name, member in (("celebrity", celebrity), ("nobody", nobody)):
                    started = time.perf_counter()
                    story_id = member.post_story(f"Benchmark post {number}")
                    posting[name].append(time.perf_counter() - started)
                    posted.append((member, story_id))
                    if name == "celebrity":
                        followers, seconds = self._fanned_out(member, story_id, started)
                        delivered.append(seconds)
        finally:
            for member, story_id in posted:
                member.submit(f"/s/{story_id}/delete", {}, form_path=f"/s/{story_id}/delete")
        self.report.fan_out(posting, delivered, followers)
        print(f"  posting: celebrity {statistics.median(posting['celebrity']) * 1000:.0f} ms, nobody "
              f"{statistics.median(posting['nobody']) * 1000:.0f} ms; fan-out to {followers} followers "
              f"{statistics.median(delivered):.2f} s")  # fmt: skip

    @staticmethod
    def _fanned_out(member: Visitor, story_id: int, started: float) -> tuple[int, float]:
        """(followers, seconds from the POST until the last one's timeline had the story)."""
        progress = wait_for(
            lambda: (done := member.get(f"/api/stories/{story_id}/fanout").json())["finished_at"] and done,
            timeout=120, interval=0.05, what=f"the fan-out of story {story_id}",
        )  # fmt: skip
        return progress["followers"], time.perf_counter() - started

    # --- 6. Queues: how fast the off-line side drains ---------------------------------------
    def queues(self) -> None:
        """The click consumer: clicks published while it is stopped wait in their queue;
        started again, it drains them. The relay: messages written into the outbox at once
        (fan-outs of a story nobody follows, which cost the job consumer little), published
        and deleted, then run by the job consumer. Rates come from the consumers' own log
        lines (Docker's timestamps), from their first batch or task to their last, so that
        a process's start-up and the broker's 5-second statistics do not count."""
        story = (
            Visitor(stack.edge_url(), load_generator=True)
            .sign_up(f"{stack.MEMBER_PREFIX}{uuid.uuid4().hex[:10]}")
            .post_story("Quiet")
        )
        clicks = 20_000 if self.seconds >= 10 else 5_000
        stack.compose("stop", "click-consumer")
        try:
            waiting = stack.publish_clicks(story, clicks)
            since = stack.now()
        finally:
            stack.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", "click-consumer")
        wait_for(lambda: stack.click_count(story) >= clicks, 300, interval=0.1, what="every click stored")
        clicks_rate = stack.rate(stack.log_lines("click-consumer", since, r"stored (\d+) clicks"))

        messages = 2000 if self.seconds >= 10 else 500
        since = stack.now()
        written = time.monotonic()
        stack.psql(
            "INSERT INTO jobs_outboxmessage (task, kwargs, created_at, attempts, last_error) "
            f"SELECT 'jobs.fanout', '{{\"story_id\": {story}}}', now(), 0, '' "
            f"FROM generate_series(1, {messages}); "
            "SELECT pg_notify('outbox', '')"
        )
        wait_for(lambda: stack.outbox_backlog() == 0, 300, interval=0.1, what="the outbox relayed")
        relay_rate = messages / (time.monotonic() - written)
        ran = r"Task jobs\.fanout\[.*\] succeeded"
        jobs = wait_for(
            lambda: len(lines := stack.log_lines("consumer", since, ran)) >= messages and lines,
            timeout=300, interval=0.5, what=f"the job consumer to run {messages} jobs",
        )  # fmt: skip
        jobs_rate = stack.rate(jobs)
        print(f"  click consumer {clicks_rate:.0f} events/s ({waiting} waiting), relay {relay_rate:.0f} "
              f"messages/s, job consumer {jobs_rate:.0f} jobs/s")  # fmt: skip
        self.report.queues(waiting, clicks_rate, messages, relay_rate, jobs_rate)

    # --- 7. Failover under load -------------------------------------------------------------
    def failover(self) -> None:
        """Under wrk's load through the edge, kill a web node, a platform node and a
        replica in turn: failed requests, seconds until its balancer marks it down, and
        seconds from its start until it is back in rotation."""
        replica = replicas()[0]
        drills = [
            ("web2", "edge-lb", "web", "web2"),
            ("platform1", "platform-lb", "platform_pool", "platform1"),
            (replica, "db-lb", "read_pool", replica),
        ]
        results = []
        for service, balancer, backend, server in drills:
            run, down, back = self._drill(service, balancer, backend, server)
            results.append((service, run, down, back))
            print(f"  {service}: {run.errors} failed of {run.requests}, down after {down:.1f} s, back "
                  f"{back:.1f} s after its start")  # fmt: skip
        self.report.failover(results)

    def _drill(self, service: str, balancer: str, backend: str, server: str) -> tuple[Run, float, float]:
        load_seconds = max(25.0, 2.5 * self.seconds)
        outcome: dict[str, Run] = {}
        load = threading.Thread(
            target=lambda: outcome.setdefault("run", stack.wrk(f"{service} killed", f"{EDGE}/", load_seconds))
        )
        load.start()
        time.sleep(3)
        killed = time.monotonic()
        stack.compose("kill", service)
        try:
            wait_for(
                lambda: stack.server_status(balancer, backend, server).startswith("DOWN"),
                timeout=30, interval=0.1, what=f"{balancer} to mark {server} down",
            )  # fmt: skip
            down = time.monotonic() - killed
        finally:
            started = time.monotonic()
            stack.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", service)
        wait_for(
            lambda: stack.server_status(balancer, backend, server) == "UP",
            timeout=120, interval=0.1, what=f"{server} back in {balancer}",
        )  # fmt: skip
        back = time.monotonic() - started
        load.join()
        return outcome["run"], down, back

    # --- 8. Map-reduce: one SQL query against the Spark job -----------------------------
    def mapreduce(self) -> None:
        """People you may know for every member, by one SQL statement on the primary and
        by the Spark job (read pool in, write pool out), one after the other on the same
        graph: the demo world's follows, then a generated graph ten times its size (a
        tenth of it in the short run). Both answers are compared row by row."""
        stack.start_analytics()
        members = int(stack.psql("SELECT count(*) FROM news_user"))
        scale = 10 if self.seconds >= 10 else 0.1
        graphs = [
            ("the demo world", members, "news_follow"),
            (f"generated, {scale:g}x the demo world", int(members * scale), "bench_follows"),
        ]
        results = []
        try:
            for name, size, table in graphs:
                if table == "bench_follows":
                    follows = stack.generate_graph(size)
                    wait_for(
                        lambda expected=follows: stack.replica_count("bench_follows") == expected,
                        timeout=300, interval=1, what="the replica to have the generated graph",
                    )  # fmt: skip
                else:
                    follows = int(stack.psql(f"SELECT count(*) FROM {table}"))
                sql_seconds = stack.people_by_sql(table)
                spark = stack.people_by_spark(f"SELECT follower_id, followee_id FROM {table}")
                same = stack.same_people()
                rows = int(stack.psql("SELECT count(*) FROM bench_people_sql"))
                results.append((name, size, follows, rows, sql_seconds, spark["seconds"], same))
                print(f"  {name}: {size:,} members, {follows:,} follows -> {rows:,} rows; "
                      f"SQL {sql_seconds:.1f} s, Spark {spark['seconds']:.1f} s, same answer: {same}",
                      flush=True)  # fmt: skip
        finally:
            stack.drop_bench_tables()
        self.report.mapreduce(results)


SECTIONS: dict[str, Callable[[Bench], None]] = {
    "tiers": Bench.tiers,
    "load-balancing": Bench.load_balancing,
    "caching": Bench.caching,
    "cdn": Bench.cdn,
    "fan-out": Bench.fan_out,
    "queues": Bench.queues,
    "failover": Bench.failover,
    "mapreduce": Bench.mapreduce,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run (default 10)")
    parser.add_argument(
        "--out", type=Path, default=stack.ROOT / "bench", help="where report.md and charts go"
    )
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append", help="run only these sections")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be a whole number from 1 to 600")
    if not stack.healthy_stack():
        print("The stack is not up and healthy: start it with `make up` first.", file=sys.stderr)
        return 2
    report = Report(args.out, seconds=args.seconds)
    bench = Bench(args.seconds, report)
    started = time.monotonic()
    report.at_rest(*stack.at_rest(min(10.0, args.seconds)))
    try:
        for name, section in SECTIONS.items():
            if args.only and name not in args.only:
                continue
            print(f"== {name}", flush=True)
            section(bench)
    finally:
        stack.close_members()
    report.write(minutes=(time.monotonic() - started) / 60)
    print(f"\nWrote {report.path}")
    print(report.headline())
    return 0


if __name__ == "__main__":
    sys.exit(main())
