"""Browse the demo site through the edge load balancer, as a crowd of readers would.

Started by `make loadtest` (compose profile `loadtest`); the UI is on 127.0.0.1:8089.
Pages of newest stories are served mostly from the cache; member pages read the
read pool (the replica), so a failure drill on any tier shows in these requests.
"""

import random
import re

from locust import HttpUser, between, task

MEMBER_LINK = re.compile(r'href="/u/(\w+)"')


class Reader(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.members: list[str] = []  # authors seen on the pages read so far

    @task(10)
    def newest(self) -> None:
        response = self.client.get("/", name="/ (newest)")
        self.members = MEMBER_LINK.findall(response.text)[:30] or self.members

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
