"""Who a visitor is when they are not logged in, so that the platform counts their
clicks on a story once per window however often they click (CLICK_DEDUP_SECONDS on
the platform; a member is counted as the member).

A visitor is the address the edge saw them come from: the last entry of
X-Forwarded-For, the one the edge appends (`option forwardfor`, haproxy/edge.cfg).
Whatever a client sends in its own X-Forwarded-For comes before it, so a flood cannot
pose as many visitors by forging that header; it would need as many addresses, which
the edge's per-address rate limits count the same way. Not the session: a visitor who
is not logged in has none (sessions are signed cookies, written only once something
is stored in them), and a flood would simply send no cookie, a new visitor each time.
The cost: people behind one address (an office's NAT) count as one visitor per story
and window. An IPv6 subscriber is usually given a whole /64, so that prefix counts
as one address.

The platform receives a keyed hash (HMAC with WEB_SECRET_KEY, the same on every web
node), never the address: the click stream stores no one's address.
"""

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

FORWARDED_FOR = "X-Forwarded-For"


def client_address(request: HttpRequest) -> str:
    """The address the edge saw; this node's peer when no balancer was in between."""
    forwarded = request.headers.get(FORWARDED_FOR, "").rsplit(",", 1)[-1].strip()
    return forwarded or request.META.get("REMOTE_ADDR", "")


def _network(address: str) -> str:
    """The address as one visitor: an IPv4 address, an IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address (no balancer, an odd client): hashed as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def visitor_id(request: HttpRequest) -> str:
    """The visitor's name for the platform: 32 hex digits, the same on every web node."""
    message = f"visitor {_network(client_address(request))}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]
