"""The README tells a newcomer the truth: every address in its table answers (with the
ports of .env.example, which the README gives)."""

import re
from urllib.parse import urlsplit

import requests

from stack import ROOT, env_value

# Started on demand only (make loadtest), not by `make up`.
ON_DEMAND = {"http://localhost:8089"}


def readme_addresses() -> list[tuple[str, str]]:
    """The rows of the README's table of addresses: what each is, and its URL."""
    rows = re.findall(r"^\| ([^|]+) \| (http://[^ |]+) \|$", (ROOT / "README.md").read_text(), flags=re.M)
    return [(what, address) for what, address in rows]


def test_every_address_in_the_readme_answers(stack):
    rows = readme_addresses()
    assert len(rows) >= 7, rows
    stats = (env_value("HAPROXY_STATS_USER"), env_value("HAPROXY_STATS_PASSWORD"))
    for what, address in rows:
        if address in ON_DEMAND:
            continue
        url = urlsplit(address)
        # Browsers resolve *.localhost to this machine; requests is told so.
        page = url._replace(netloc=f"127.0.0.1:{url.port}").geturl()
        response = requests.get(page, headers={"Host": url.netloc}, timeout=10)
        if what.startswith("HAProxy stats"):
            assert response.status_code == 401, f"{address} answers without the credentials in .env"
            response = requests.get(page, headers={"Host": url.netloc}, auth=stats, timeout=10)
        assert response.status_code == 200, f"{address} answered {response.status_code}"
