"""Browse the demo site through the edge load balancer, as a crowd of readers would.

Started by `make loadtest` (compose profile `loadtest`); the UI is on 127.0.0.1:8089.
"""

import random

from locust import HttpUser, between, task


class Reader(HttpUser):
    wait_time = between(0.5, 2)

    @task(10)
    def newest(self) -> None:
        self.client.get("/", name="/ (newest)")

    @task(5)
    def older_page(self) -> None:
        self.client.get(f"/?page={random.randint(2, 20)}", name="/?page=N")

    @task(1)
    def status(self) -> None:
        self.client.get("/status", name="/status")
