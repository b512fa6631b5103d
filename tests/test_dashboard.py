"""The live architecture dashboard (/dashboard): the series our own services export for
it, the data it polls, the edge's one-second cache of that data, and a real browser
watching a web node go down and come back."""

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest
import requests

from stack import ROOT, broken, compose, wait_for

REPORTS = ROOT / "reports"


def metrics_of(service: str, port: int = 8000) -> str:
    """A service's /metrics page, read from inside the compose network (the edge refuses it)."""
    url = f"http://{service}:{port}/metrics"
    fetch = f"import urllib.request as u; print(u.urlopen({url!r}, timeout=5).read().decode())"
    return compose("exec", "-T", "web1", "python3", "-c", fetch).stdout


def series(page: str, name: str, **labels: str) -> float:
    """The sum of a family's samples whose labels include `labels` (0 when none)."""
    total = 0.0
    for line in page.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and all(f'{key}="{value}"' in (match.group(1) or "") for key, value in labels.items()):
            total += float(match.group(2))
    return total


def web_tier_count(view: str) -> float:
    return sum(
        series(metrics_of(node), "http_requests_total", view=view) for node in ("web1", "web2", "web3")
    )


def test_web_nodes_count_each_request_by_view_and_status(edge):
    before = web_tier_count("newest")
    for _ in range(6):
        assert requests.get(f"{edge}/newest", timeout=10).status_code == 200
    assert web_tier_count("newest") - before == 6
    page = metrics_of("web1")
    assert series(page, "http_request_duration_seconds_bucket", view="newest", le="+Inf") > 0
    # Probes are not traffic.
    assert series(page, "http_requests_total", view="healthz") == 0


def test_platform_nodes_export_requests_cache_lookups_outbox_and_scheduled_jobs(edge):
    requests.get(f"{edge}/newest", timeout=10).raise_for_status()
    pages = [metrics_of(node) for node in ("platform1", "platform2")]
    assert sum(series(page, "http_requests_total", code="200") for page in pages) > 0
    assert sum(series(page, "platform_cache_lookups_total") for page in pages) > 0
    for page in pages:
        assert series(page, "platform_state_read_ok") == 1
        assert "platform_outbox_waiting " in page and "platform_outbox_oldest_seconds " in page
    # cron publishes a heartbeat every minute; the stack has run for more than one.
    assert series(pages[0], "jobs_last_slot_timestamp_seconds", task="heartbeat") > time.time() - 300


def test_the_cdn_host_counts_its_answers_by_where_they_came_from(edge, cdn):
    home = requests.get(f"{edge}/", timeout=10).text
    stylesheet = re.search(r'href="http://static\.localhost:\d+(/static/web/site\.[0-9a-f]{12}\.css)"', home)
    assert stylesheet, "the home page links its stylesheet on the CDN host"
    before = series(metrics_of("cdn", 9113), "cdn_requests_total", source="local", code="2xx")
    for _ in range(3):
        response = requests.get(
            f"{cdn}{stylesheet.group(1)}", headers={"Host": "static.localhost"}, timeout=10
        )
        assert response.status_code == 200
    after = series(metrics_of("cdn", 9113), "cdn_requests_total", source="local", code="2xx")
    assert after - before == 3


def test_the_edge_refuses_metrics_from_outside(edge):
    response = requests.get(f"{edge}/metrics", timeout=10)
    assert response.status_code == 404
    assert "http_requests_total" not in response.text


def dashboard_data(edge: str) -> dict:
    response = requests.get(f"{edge}/dashboard/data", timeout=10)
    response.raise_for_status()
    return response.json()


def test_the_dashboard_data_has_every_box_and_every_source(edge):
    def complete():
        data = dashboard_data(edge)
        return data if data["prometheus"] is None and not data["missing"] and data["boxes"] else None

    data = wait_for(complete, timeout=60, what="every data source scraped")
    boxes = data["boxes"]
    for name in ("requests", "edge-lb", "web1", "web2", "web3", "platform-lb", "platform1", "platform2",
                 "db-lb", "postgres1", "postgres2", "postgres3", "etcd", "redis", "redis-locks", "rabbitmq",
                 "relay", "consumer", "click-consumer", "cron", "cdn"):  # fmt: skip
        assert boxes[name]["state"] in ("up", "lagging"), (name, boxes[name])
    roles = [boxes[name]["lines"][0] for name in ("postgres1", "postgres2", "postgres3")]
    assert sorted(role.startswith("primary") for role in roles) == [False, False, True], roles
    assert boxes["spark-master"]["state"] in ("up", "off")
    assert boxes["web1"]["kind"] == "code" and boxes["redis"]["kind"] == "infra"
    assert boxes["requests"]["kind"] == "external"
    assert any(line.startswith("hit ratio") for line in boxes["redis"]["lines"])
    assert boxes["db-lb"]["lines"][0] == "reads → 2 replicas"
    assert {job["task"] for job in boxes["cron"]["jobs"]} >= {"heartbeat"}
    assert set(data["arrows"]) >= {"requests>edge-lb", "edge-lb>web1", "edge-lb>web2", "edge-lb>web3"}


def test_a_paused_web_node_shows_frozen_then_up_again(edge):
    """`make pause`: the node accepts connections and answers nothing (the balancer's
    checks time out at layer 7), which the page tells apart from a node that is gone."""

    def web3_is(state: str):
        return lambda: dashboard_data(edge)["boxes"]["web3"]["state"] == state

    with broken("web3", "pause") as web3:
        wait_for(web3_is("frozen"), timeout=30, what="web3 frozen on the dashboard")
        web3.mend()
        wait_for(web3_is("up"), timeout=60, what="web3 up again on the dashboard")


def test_the_charts_cover_the_last_minutes(edge):
    response = requests.get(f"{edge}/dashboard/charts", timeout=10)
    response.raise_for_status()
    charts = response.json()
    assert charts["prometheus"] is None
    assert set(charts["charts"]) == {"requests", "latency", "errors", "cache", "queues"}
    assert len(charts["times"]) > 30
    web_nodes = {series["label"] for series in charts["charts"]["requests"]["series"]}
    assert web_nodes == {"web1", "web2", "web3"}


def test_a_dozen_dashboards_cost_the_web_tier_about_one_answer_a_second(edge):
    before = web_tier_count("dashboard-data")
    started = time.monotonic()
    answers = [requests.get(f"{edge}/dashboard/data", timeout=10) for _ in range(12)]
    elapsed = time.monotonic() - started
    computed = web_tier_count("dashboard-data") - before
    assert all(answer.status_code == 200 for answer in answers)
    assert any(answer.headers.get("X-Cache-Status") == "HIT" for answer in answers)
    # One answer computed per second the burst spanned (and one for the second it began in).
    assert computed <= int(elapsed) + 2, (computed, elapsed)


# --- In a real browser ----------------------------------------------------------------

sync_api = pytest.importorskip("playwright.sync_api")
# A bounded load, so that the arrows have traffic to move: at most this long, this many requests.
LOAD_SECONDS, LOAD_REQUESTS = 120, 6000


@contextmanager
def steady_traffic(edge: str) -> Iterator[dict]:
    """Pages requested through the edge one after another, in the background, until the
    block ends (bounded in time and count)."""
    state = {"requests": 0, "stop": False}

    def run():
        session = requests.Session()
        deadline = time.monotonic() + LOAD_SECONDS
        while not state["stop"] and time.monotonic() < deadline and state["requests"] < LOAD_REQUESTS:
            with suppress(requests.RequestException):
                session.get(f"{edge}/newest", timeout=10)
            state["requests"] += 1
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state["stop"] = True
        thread.join(timeout=15)


def box_state(page, name: str) -> str:
    return page.get_by_test_id(f"box-{name}").get_attribute("data-state")


def arrow_label(page, name: str) -> str:
    return page.locator(f'[data-arrow="{name}"] .rate').text_content() or ""


def test_killing_a_web_node_shows_on_the_dashboard_and_its_traffic_moves(browser, edge):
    page = browser.new_context(viewport={"width": 1500, "height": 1300}).new_page()
    page.goto(f"{edge}/")
    page.get_by_test_id("nav-dashboard").click()
    with steady_traffic(edge):
        sync_api.expect(page.get_by_test_id("box-web2")).to_have_attribute("data-state", "up", timeout=20_000)
        wait_for(
            lambda: not arrow_label(page, "edge-lb>web2").startswith("0.0"), timeout=20, what="web2's traffic"
        )

        with broken("web2", "kill") as web2:
            sync_api.expect(page.get_by_test_id("box-web2")).to_have_attribute(
                "data-state", "down", timeout=10_000
            )
            shown_down_after = time.monotonic() - web2.broken_at

            # Its traffic goes to the other two.
            def moved() -> bool:
                web1, web2, web3 = (arrow_label(page, f"edge-lb>{node}") for node in ("web1", "web2", "web3"))
                return web2.startswith("0.0") and not web1.startswith("0.0") and not web3.startswith("0.0")

            wait_for(moved, timeout=10, what="web2's traffic moved to web1 and web3")
            REPORTS.mkdir(exist_ok=True)
            page.screenshot(path=str(REPORTS / "dashboard-web2-down.png"), full_page=True)
            web2.mend()
            sync_api.expect(page.get_by_test_id("box-web2")).to_have_attribute(
                "data-state", "up", timeout=60_000
            )
    page.screenshot(path=str(REPORTS / "dashboard.png"), full_page=True)
    print(f"web2 shown down {shown_down_after:.1f} s after the kill")
    page.close()


def test_the_dashboard_says_when_prometheus_is_away(browser, edge):
    page = browser.new_context().new_page()
    page.goto(f"{edge}/dashboard")
    with broken("prometheus", "stop"):
        notices = page.get_by_test_id("dashboard-notices")
        sync_api.expect(notices).to_contain_text("Prometheus did not answer", timeout=15_000)
        sync_api.expect(page.get_by_test_id("box-web1")).to_have_attribute("data-state", "no data")
    sync_api.expect(page.get_by_test_id("box-web1")).to_have_attribute("data-state", "up", timeout=60_000)
    page.close()


def test_the_dashboard_loads_nothing_from_a_third_party_host(browser, edge, cdn):
    page = browser.new_context().new_page()
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{edge}/dashboard")
    # uPlot (vendored, from the CDN host) drew the charts.
    sync_api.expect(page.locator(".chart canvas").first).to_be_visible(timeout=20_000)
    cdn_port = cdn.rsplit(":", 1)[1]
    assert hosts <= {edge.split("/")[2], f"static.localhost:{cdn_port}"}, hosts
    page.close()
