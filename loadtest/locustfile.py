"""Use the demo site through the edge load balancer, as a crowd would: three visitors
reading (the newest stories, older pages, member pages, searches) for each member
(signing up, reading their home timeline, posting, following, clicking through,
editing their profile).

Started by `make loadtest` (compose profile `loadtest`; the UI is on 127.0.0.1:8089)
or `make loadtest-headless` (bounded; reports under reports/; the run fails on any
failed request, or on a 95th percentile over --max-p95 milliseconds).
Pages of newest stories are served mostly from the cache; member pages read the
read pool (the replica), so a failure drill on any tier shows in these requests.

Members, new accounts named `loadtest_...` (`manage.py close_accounts
--username-prefix loadtest_` removes them and all they did), write as a browser does,
through the site's forms, each filling-in of a form named by its write key: when the
answer to a post is lost (a 502 or 503 from the edge, a connection reset), the
member sends the same form again, as a person pressing the button again would, and
the site writes it once. With `--writes-file`, what was acknowledged is written
there at the end (tests/test_failover.py checks that each acknowledged story is
stored exactly once).
"""

import json
import logging
import os
import random
import re
import time
import uuid

from locust import FastHttpUser, HttpUser, between, events, task

MEMBER_LINK = re.compile(r'href="/u/(\w+)"')
STORY_LINK = re.compile(r'data-story-id="(\d+)"')
TITLE_WORD = re.compile(r'class="title"[^>]*>([A-Za-z]{4,})')  # a story title's first word
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WRITE_KEY = re.compile(r'name="write_key" value="([^"]+)"')
# Demo members the load's members follow (the demo world has user1 .. user10000).
MEMBERS = range(2000, 3000)
# How long a member keeps sending a form again while its answer is lost or refused
# for now (503): longer than a database failover (README: Failover). Between sends,
# the member waits what the site's Retry-After says (else a second), as a person
# reading "try again in a few seconds" would.
RESEND_WITHIN = 60
# The crowd comes from one address: its key lets it past the edge's per-address rate
# limits (haproxy/edge.cfg), which one person's browser stays within.
LOAD_GENERATOR = {"X-Load-Generator": os.environ.get("LOAD_GENERATOR_KEY", "")}
# Answers that do not say whether the write happened.
LOST = (0, 502, 503, 504)  # 0: no answer at all (Locust's status for a connection error)
RUN = uuid.uuid4().hex[:8]  # names this run's stories and clicks

# What this process's members saw acknowledged, and what was never acknowledged.
writes: dict = {
    "sent": [],  # every story a member began to post (the run may stop before its answer)
    "posted": [],  # ...and those the site acknowledged
    "resent": 0,  # forms sent again because their answer was lost
    # When a form was refused for now (503), and the Retry-After it named: a failover's
    # window, as the members saw it.
    "refused": [],
    # Each member clicks a story once: the platform counts a reader's clicks on a story
    # once per window (CLICK_DEDUP_SECONDS, longer than a run), so each of these counts.
    "clicks_sent": 0,
    "clicks_acknowledged": 0,
}


@events.init_command_line_parser.add_listener
def _(parser) -> None:
    parser.add_argument("--writes-file", default="", help="where to write, at the end, what was acknowledged")
    parser.add_argument(
        "--max-p95", type=int, default=0, help="fail the run when the 95th percentile exceeds this many ms"
    )


@events.quitting.add_listener
def _(environment, **kwargs) -> None:
    """A failed request fails the run (exit code 1), and so does a 95th percentile
    over --max-p95 (when set)."""
    total = environment.stats.total
    p95 = total.get_response_time_percentile(0.95) or 0
    limit = environment.parsed_options.max_p95
    if total.num_failures:
        logging.error("%d of %d requests failed", total.num_failures, total.num_requests)
        environment.process_exit_code = 1
    elif limit and p95 > limit:
        logging.error("the 95th percentile is %d ms, over the %d ms allowed (--max-p95)", p95, limit)
        environment.process_exit_code = 1


@events.test_stop.add_listener
def _(environment, **kwargs) -> None:
    if environment.parsed_options.writes_file:
        with open(environment.parsed_options.writes_file, "w") as file:
            json.dump({"run": RUN, **writes}, file)


def retry_after(response) -> float:
    """The seconds a refusal asks the client to wait (Retry-After), else one."""
    try:
        return min(float(response.headers.get("Retry-After") or 1), 10)
    except ValueError:
        return 1


def form_fields(page: str) -> dict[str, str] | None:
    """The hidden fields of a page's write form: its CSRF token and write key."""
    token, key = CSRF.search(page), WRITE_KEY.search(page)
    return {"csrfmiddlewaretoken": token[1], "write_key": key[1]} if token and key else None


class Reader(FastHttpUser):
    """A visitor, not logged in: reads only (a FastHttpUser: a lighter client, for the many)."""

    weight = 3
    wait_time = between(0.5, 2)
    default_headers = LOAD_GENERATOR

    def on_start(self) -> None:
        self.members: list[str] = []  # authors seen on the pages read so far
        self.words: list[str] = ["scale"]  # words of the titles seen so far, to search for

    @task(10)
    def newest(self) -> None:
        response = self.client.get("/", name="/ (newest)")
        self.members = MEMBER_LINK.findall(response.text)[:30] or self.members
        self.words = TITLE_WORD.findall(response.text)[:50] or self.words

    @task(2)
    def search(self) -> None:
        self.client.get(f"/search?q={random.choice(self.words)}", name="/search?q=[word]")

    @task(5)
    def older_page(self) -> None:
        self.client.get(f"/?page={random.randint(2, 20)}", name="/?page=N")

    @task(5)
    def member(self) -> None:
        if self.members:
            self.client.get(f"/u/{random.choice(self.members)}", name="/u/[member]")

    @task(1)
    def status(self) -> None:
        self.client.get("/status", name="/status")


class Member(HttpUser):
    """A member who writes, through the forms, with cookies (session, CSRF) as a browser."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        """A new member, for this run only."""
        self.client.headers.update(LOAD_GENERATOR)
        self.clicked: set[str] = set()  # the stories this member clicked through to
        self.username = f"loadtest_{RUN}_{uuid.uuid4().hex[:8]}"
        signup = self.client.get("/signup", name="/signup")
        data = {"username": self.username, "name": "Load test", "password": "load-test-password"}
        self.submit("/signup", form_fields(signup.text), data)

    def submit(self, path: str, fields: dict[str, str] | None, data: dict[str, str], name: str = "") -> bool:
        """Send a form (its hidden fields, and `data`); send it again, with the same write
        key, while the answer is lost. True once the site acknowledged it."""
        if fields is None:
            return False  # the page with the form failed, and Locust counted it
        deadline = time.monotonic() + RESEND_WITHIN
        while True:
            with self.client.post(path, {**fields, **data}, name=name or path, catch_response=True) as r:
                wait = retry_after(r)
                if r.status_code == 503:
                    writes["refused"].append([time.time(), r.headers.get("Retry-After")])
                if r.status_code in LOST and time.monotonic() + wait < deadline:
                    r.success()  # not a failure yet: the same form goes again
                    writes["resent"] += 1
                else:
                    return r.ok  # Locust counts anything else as it is
            time.sleep(wait)

    @task(3)
    def post_story(self) -> None:
        title = f"Load {RUN} {uuid.uuid4().hex[:10]}"
        form = self.client.get("/submit", name="/submit")
        data = {"title": title, "url": "https://example.com/load", "text": ""}
        writes["sent"].append(title)
        if self.submit("/submit", form_fields(form.text), data):
            writes["posted"].append(title)

    @task(4)
    def home(self) -> None:
        """Their home timeline: the stories of whom they follow, and suggestions."""
        self.client.get("/", name="/ (home timeline)")

    @task(1)
    def edit_profile(self) -> None:
        settings = self.client.get("/settings/profile", name="/settings/profile")
        data = {"name": "Load test", "bio": f"Edited {uuid.uuid4().hex[:6]}"}
        self.submit("/settings/profile", form_fields(settings.text), data)

    @task(2)
    def follow(self) -> None:
        other = f"user{random.choice(MEMBERS)}"
        page = self.client.get(f"/u/{other}", name="/u/[member]")
        action = "unfollow" if 'data-following="true"' in page.text else "follow"
        self.submit(f"/u/{other}/{action}", form_fields(page.text), {}, f"/u/[member]/{action}")

    @task(2)
    def click_through(self) -> None:
        """A story this member has not clicked yet (a second click on one would not count)."""
        stories = STORY_LINK.findall(self.client.get("/newest", name="/newest").text)
        unclicked = [story for story in stories if story not in self.clicked]
        if not unclicked:
            return
        story = random.choice(unclicked)
        self.clicked.add(story)
        writes["clicks_sent"] += 1
        response = self.client.get(
            f"/s/{story}/go",
            name="/s/[story]/go",
            headers={"Referer": f"https://load-{RUN}.example/"},
            allow_redirects=False,
        )
        if response.status_code == 302:
            writes["clicks_acknowledged"] += 1
