"""A page's data round-trips web node -> platform pool -> Postgres, and static files
come from the CDN host, not from the web nodes."""

import json
import os
import re
import uuid

import pytest
import requests

from stack import broken, compose, healthy, psql, served_by, wait_for


def test_a_story_written_to_postgres_shows_on_the_home_page(edge):
    title = f"Round trip {uuid.uuid4().hex[:12]}"
    psql(
        "INSERT INTO news_story (author_id, title, url, text, created_at, updated_at, version) "
        f"SELECT id, '{title}', 'https://example.com/round-trip', '', now(), now(), 1 "
        "FROM news_user ORDER BY id LIMIT 1"
    )
    # Written behind the platform's back, so it shows once the cached list of newest
    # stories is refreshed (news.services.LIST_FRESH, 10s): the cost of caching.
    response = wait_for(
        lambda: (r := requests.get(f"{edge}/", timeout=10)).status_code == 200 and title in r.text and r,
        timeout=45,
        what="the new story on the home page",
    )
    assert served_by(response) in {"web1", "web2", "web3"}
    assert re.search(r'data-testid="platform-node">platform[12]<', response.text), (
        "data came from a platform node"
    )


def test_pages_come_from_both_platform_nodes(edge):
    platform_nodes = set()
    for _ in range(20):
        html = requests.get(f"{edge}/", timeout=10).text
        platform_nodes.update(re.findall(r'data-testid="platform-node">(platform\d)<', html))
    assert platform_nodes == {"platform1", "platform2"}


def test_bad_input_is_a_400_page_not_a_500(edge):
    response = requests.get(f"{edge}/", params={"page": "'; DROP TABLE news_story; --"}, timeout=10)
    assert response.status_code == 400
    assert "whole number" in response.text


def test_the_status_page_reports_every_tier(edge):
    status = requests.get(f"{edge}/status.json", timeout=10).json()
    assert {name for name, dep in status["dependencies"].items() if dep["ok"]} == {
        "postgres",
        "postgres_read_pool",
        "redis",
        "rabbitmq",
    }
    assert status["dependencies"]["redis"]["maxmemory_policy"] == "allkeys-lru"
    assert any(queue["name"] == "jobs" for queue in status["dependencies"]["rabbitmq"]["queues"])


def test_static_files_come_from_the_cdn_host_with_cache_headers(edge, cdn):
    html = requests.get(f"{edge}/", timeout=10).text
    css_url = re.search(
        r'href="(http://static\.localhost:\d+/static/web/site\.[0-9a-f]{12}\.css)"', html
    ).group(1)
    path = css_url.split(":", 2)[2].split("/", 1)[1]
    cdn_host = {"Host": "static.localhost"}

    response = requests.get(f"{cdn}/{path}", headers=cdn_host, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "ETag" in response.headers
    assert response.headers.get("Content-Encoding") == "gzip", "precompressed at build time"

    revalidated = requests.get(
        f"{cdn}/{path}", headers={**cdn_host, "If-None-Match": response.headers["ETag"]}, timeout=5
    )
    assert revalidated.status_code == 304

    assert requests.get(f"{cdn}/{path}", headers={"Host": "example.com"}, timeout=5).status_code == 421
    assert requests.get(f"{edge}/{path}", timeout=5).status_code == 404, "web nodes do not serve static files"


def test_with_the_cdn_down_pages_still_render_without_their_stylesheet(edge, cdn):
    """Static media is not the web nodes' job: with the CDN host stopped, pages keep
    coming, still linking their stylesheet on the CDN host, which does not answer."""
    with broken("cdn", "stop"):
        page = requests.get(f"{edge}/", timeout=10)
        assert page.status_code == 200 and 'data-testid="story"' in page.text
        assert re.search(r'href="http://static\.localhost:\d+/static/web/site\.[0-9a-f]{12}\.css"', page.text)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{cdn}/healthz", headers={"Host": "static.localhost"}, timeout=5)
    wait_for(lambda: healthy("cdn"), timeout=60, what="the CDN host back")


def test_only_the_edge_the_cdn_and_the_admin_pages_are_published():
    """Internal tiers stay internal: of the inner balancers, only the stats page is
    published; published ports listen on loopback by default."""
    bind = (
        {"0.0.0.0", "::", ""} if os.environ.get("BIND_ADDRESS") not in (None, "127.0.0.1") else {"127.0.0.1"}
    )
    ports: dict[str, set[int]] = {}
    addresses: set[str] = set()
    for line in compose("ps", "--format", "json").stdout.splitlines():
        container = json.loads(line)
        for port in container.get("Publishers") or []:
            if port.get("PublishedPort"):
                ports.setdefault(container["Service"], set()).add(port["TargetPort"])
                addresses.add(port["URL"])
    expected = {
        "edge-lb": {8080, 8404},  # the site, its stats page
        "cdn": {80},
        "rabbitmq1": {15672},  # the management UI (the whole cluster), not AMQP
        "platform-lb": {8404},  # stats pages only: the platform pool itself (9000) is not published
        "db-lb": {8404},  # nor are the database pools (9001, 9002)
        "prometheus": {9090},  # its own UI; the exporters and /metrics pages are not published
    }
    if "spark-master" in ports:  # the analytics profile: the master's UI, not the cluster's port (7077)
        expected["spark-master"] = {8080}
    assert ports == expected
    assert addresses <= bind


def test_the_web_tier_cannot_reach_the_data_tier():
    """Web nodes get data only from the platform: the data tier and its pools are not
    even resolvable."""
    data_tier = [
        ("postgres1", 5432),
        ("postgres2", 8008),  # Patroni's REST API
        ("etcd1", 2379),
        ("db-lb", 9001),
        ("db-lb", 9002),
        ("redis", 6379),
        ("rabbitmq", 5672),
    ]
    probe = (
        "import socket\n"
        f"for host, port in {data_tier}:\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=2)\n"
        "        print('reached', host)\n"
        "    except OSError:\n"
        "        pass\n"
        "socket.create_connection(('platform-lb', 9000), timeout=2)\n"
        "print('platform reachable')\n"
    )
    output = compose("exec", "-T", "web1", "python3", "-c", probe).stdout
    assert output.strip() == "platform reachable"
