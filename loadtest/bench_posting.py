"""Benchmark: does posting cost the same for a celebrity as for a member with no
followers? (The article's "do enough inline, tie up loose ends later".)

    make bench-posting            # or: python loadtest/bench_posting.py --posts 20

Through the edge load balancer, it posts alternately as the demo world's most
followed member and as a new member nobody follows, measures each POST (the time
until the platform has committed the story and the web node answers), and, for
the celebrity, how long the off-line fan-out takes to reach every follower. Both
are measured side by side in one run, so the ratio means something on a noisy
machine. Writes reports/posting.md and prints it.
"""

import argparse
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


class Member:
    def __init__(self, edge: str) -> None:
        self.edge = edge
        self.session = requests.Session()

    def _token(self, path: str) -> str:
        """The CSRF token of the form at `path`."""
        page = self.session.get(f"{self.edge}{path}", timeout=10)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def _form(self, path: str, data: dict) -> requests.Response:
        data = {"csrfmiddlewaretoken": self._token(path), **data}
        return self.session.post(f"{self.edge}{path}", data=data, timeout=30)

    def log_in(self, username: str, password: str) -> "Member":
        self._form("/login", {"username": username, "password": password}).raise_for_status()
        return self

    def sign_up(self, username: str, password: str) -> "Member":
        self._form(
            "/signup", {"username": username, "name": username, "password": password}
        ).raise_for_status()
        return self

    def post(self, title: str) -> tuple[float, int]:
        """Post a story; return the seconds the POST took and the story's id."""
        token = self._token("/submit")
        data = {"csrfmiddlewaretoken": token, "title": title, "url": "https://example.com/bench", "text": ""}
        started = time.perf_counter()
        response = self.session.post(f"{self.edge}/submit", data=data, timeout=30, allow_redirects=False)
        elapsed = time.perf_counter() - started
        if response.status_code != 302:
            sys.exit(f"posting failed: HTTP {response.status_code}")
        return elapsed, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    def fan_out(self, story_id: int) -> dict:
        """{delivered, followers, finished_at}, from the public API."""
        return self.session.get(f"{self.edge}/api/stories/{story_id}/fanout", timeout=10).json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edge", default="http://127.0.0.1:8080")
    parser.add_argument("--posts", type=int, default=20, help="posts per member (1 to 200)")
    parser.add_argument("--celebrity", default="user1")
    args = parser.parse_args()
    if not 1 <= args.posts <= 200:
        parser.error("--posts must be between 1 and 200")

    celebrity = Member(args.edge).log_in(args.celebrity, "demo-password")
    nobody = Member(args.edge).sign_up(f"bench_{uuid.uuid4().hex[:8]}", "bench-password-1")
    timings: dict[str, list[float]] = {"celebrity": [], "nobody": []}
    fan_out_seconds: list[float] = []
    followers = 0
    for i in range(args.posts):
        for name, member in (("celebrity", celebrity), ("nobody", nobody)):
            elapsed, story_id = member.post(f"Benchmark post {i}")
            timings[name].append(elapsed)
            if name == "celebrity":
                started = time.perf_counter() - elapsed
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    progress = celebrity.fan_out(story_id)
                    followers = progress["followers"]
                    if progress["finished_at"]:
                        break
                    time.sleep(0.05)
                fan_out_seconds.append(time.perf_counter() - started)

    def median_ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    def p95_ms(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) >= 2 else values[0] * 1000

    ratio = median_ms(timings["celebrity"]) / median_ms(timings["nobody"])
    rows = [(args.celebrity, followers, timings["celebrity"]), ("a new member", 0, timings["nobody"])]
    table = "\n".join(
        f"| {who} | {count} | {median_ms(values):.1f} ms | {p95_ms(values):.1f} ms |"
        for who, count, values in rows
    )
    report = f"""# Posting: a celebrity against a member nobody follows

{args.posts} posts each, alternating, through the edge load balancer ({args.edge}).

| Author | Followers | POST median | POST p95 |
| --- | ---: | ---: | ---: |
{table}

Ratio of the medians (celebrity / nobody): **{ratio:.2f}**. The fan-out to all
{followers} followers, off-line, finished a median {statistics.median(fan_out_seconds):.2f} s
(worst {max(fan_out_seconds):.2f} s) after the POST began.
"""
    out = ROOT / "reports" / "posting.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    print(report)
    print(f"Written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
