"""The README tells a newcomer the truth: every address in its table answers (with the
ports of .env.example, which the README gives)."""

import re
from urllib.parse import urlsplit

import requests

from stack import ROOT

# Started on demand only (make loadtest), not by `make up`.
ON_DEMAND = {"http://localhost:8089"}


def readme_addresses() -> list[str]:
    """The URL column of the README's table of addresses."""
    return re.findall(r"^\|[^|]+\| (http://[^ |]+) \|$", (ROOT / "README.md").read_text(), flags=re.M)


def test_every_address_in_the_readme_answers(stack):
    addresses = readme_addresses()
    assert len(addresses) >= 7, addresses
    for address in addresses:
        if address in ON_DEMAND:
            continue
        url = urlsplit(address)
        # Browsers resolve *.localhost to this machine; requests is told so.
        response = requests.get(
            url._replace(netloc=f"127.0.0.1:{url.port}").geturl(),
            headers={"Host": url.netloc},
            timeout=10,
        )
        assert response.status_code == 200, f"{address} answered {response.status_code}"
