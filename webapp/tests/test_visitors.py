"""web.visitors: who a visitor who is not logged in is, for counting their clicks once:
the address the edge saw, which a client cannot forge, as a keyed hash."""

import re

from django.test import RequestFactory, override_settings

from web.visitors import client_address, visitor_id

factory = RequestFactory()


def request(forwarded_for: str | None = None, remote: str = "172.18.0.2"):
    """A request as it reaches a web node: from the edge (REMOTE_ADDR), with its X-Forwarded-For."""
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return factory.get("/s/1/go", REMOTE_ADDR=remote, **headers)


def test_the_visitor_is_the_address_the_edge_appended_not_one_the_client_sent():
    assert client_address(request("203.0.113.7")) == "203.0.113.7"
    # A client's own header comes first; the edge's entry is the last one.
    assert client_address(request("198.51.100.1, 10.0.0.1,203.0.113.7")) == "203.0.113.7"
    assert visitor_id(request("198.51.100.1, 203.0.113.7")) == visitor_id(request("203.0.113.7"))
    assert visitor_id(request("198.51.100.2, 203.0.113.7")) == visitor_id(request("203.0.113.7"))
    assert visitor_id(request("203.0.113.8")) != visitor_id(request("203.0.113.7"))


def test_without_a_balancer_in_front_the_visitor_is_the_peer():
    assert client_address(request(None, remote="192.0.2.5")) == "192.0.2.5"
    assert client_address(request("", remote="192.0.2.5")) == "192.0.2.5"


def test_an_ipv6_subscriber_is_one_visitor_per_64_and_a_mapped_ipv4_is_the_ipv4_address():
    assert visitor_id(request("2001:db8:1:2::1")) == visitor_id(request("2001:db8:1:2:ffff::9"))
    assert visitor_id(request("2001:db8:1:3::1")) != visitor_id(request("2001:db8:1:2::1"))
    assert visitor_id(request("::ffff:203.0.113.7")) == visitor_id(request("203.0.113.7"))


def test_the_platform_gets_a_keyed_hash_the_same_on_every_node_never_the_address():
    name = visitor_id(request("203.0.113.7"))
    assert re.fullmatch(r"[0-9a-f]{32}", name), "what the platform's click accepts"
    with override_settings(SECRET_KEY="another-deployment-" * 3):
        assert visitor_id(request("203.0.113.7")) != name, "keyed: unguessable without the web tier's key"
