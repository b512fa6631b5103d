"""Hostile requests, through the edge as an attacker would send them (and, for the
tier behind it, from inside the compose network): each is refused, clearly, and costs
the stack little. The limits are .env's (haproxy/edge.cfg, signins.throttle).

Tests that spend this machine's allowance at the edge give it back in a `finally`,
through HAProxy's runtime API, so the rest of the suite is not refused for them."""

import json
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests

from stack import Visitor, compose, env_value, haproxy

WRONG = "not the password"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@contextmanager
def counters_cleared(*tables: str):
    """Give back what the test spent of the edge's rate limits, whatever happened."""
    try:
        yield
    finally:
        for table in tables:
            answer = haproxy("edge-lb", f"clear table {table}")
            assert not answer.strip(), f"HAProxy would not clear {table}: {answer}"


def login_form(visitor: Visitor) -> dict[str, str]:
    return visitor.form_fields("/login")


def test_a_brute_force_on_the_login_form_is_refused_at_the_edge_with_429(edge):
    victim = unique("victim")
    Visitor(edge).sign_up(victim)
    attacker = Visitor(edge)
    fields = login_form(attacker)
    answers: list[requests.Response] = []

    def guess() -> None:
        data = {**fields, "username": victim, "password": WRONG}
        answers.append(attacker.session.post(f"{edge}/login", data=data, timeout=30))

    with counters_cleared("per_source_sign_ins", "per_source_requests"):
        threads = [threading.Thread(target=guess) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refused = [answer for answer in answers if answer.status_code == 429]
        limit = int(env_value("RATE_LIMIT_SIGN_INS"))
        assert len(answers) == 40
        assert len(refused) >= 40 - limit, [answer.status_code for answer in answers]
        assert all(answer.status_code in (200, 429) for answer in answers), "no 5xx under the attack"
        assert refused[0].headers["Retry-After"] == "10"
        assert "wait a few seconds" in refused[0].text


def test_wrong_passwords_make_the_account_wait_and_its_member_is_told(edge):
    member = unique("member")
    Visitor(edge).sign_up(member, password="the right one")
    with counters_cleared("per_source_sign_ins"):
        for _ in range(5):
            page = Visitor(edge).submit("/login", {"username": member, "password": WRONG})
            assert "Wrong username or password" in page.text
        page = Visitor(edge).submit("/login", {"username": member, "password": "the right one"})
        assert page.status_code == 200
        assert "Too many wrong passwords for this account: try again in" in page.text
        assert f"@{member}" not in page.text, "not logged in while the account waits"


def test_an_oversized_body_gets_413_before_it_is_sent(edge):
    """The headers alone announce 50 MB: the edge answers without waiting for a byte of it."""
    url = urlsplit(edge)
    with socket.create_connection((url.hostname, url.port), timeout=10) as connection:
        connection.sendall(
            b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 50000000\r\n\r\n"
        )
        started = time.monotonic()
        answer = connection.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer
    assert f"at most {env_value('MAX_BODY_MB')} MB" in answer
    assert time.monotonic() - started < 5


def test_a_body_of_unknown_length_is_refused(edge):
    def chunks():
        yield b"username=a&password=b"

    response = requests.post(f"{edge}/login", data=chunks(), timeout=10)
    assert response.status_code == 411
    assert "Content-Length" in response.text


def test_a_session_cookie_copied_before_logout_is_refused_after_it(edge):
    member = Visitor(edge).sign_up(unique("member"))
    stolen = requests.Session()
    stolen.cookies.update(member.session.cookies)
    assert stolen.get(f"{edge}/settings/profile", timeout=10, allow_redirects=False).status_code == 200
    fields = member.form_fields("/settings/profile")
    logout = member.session.post(f"{edge}/logout", data=fields, timeout=10)
    assert logout.status_code == 200 and "Logged out" in logout.text
    after = stolen.get(f"{edge}/settings/profile", timeout=10, allow_redirects=False)
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")


def test_a_forged_acting_member_header_is_ignored(edge):
    """Whatever a browser sends, only its session says who it is."""
    forged = {"X-Acting-User": "1", "X-Member-Assertion": "WzEsImZvcmdlZCJd:forged:signature"}
    settings = requests.get(f"{edge}/settings/profile", headers=forged, timeout=10, allow_redirects=False)
    assert settings.status_code == 302 and settings.headers["Location"].startswith("/login")
    home = requests.get(f"{edge}/", headers=forged, timeout=10)
    assert home.status_code == 200 and 'data-testid="nav-login"' in home.text


CALL_THE_PLATFORM = """
import json, os, sys, urllib.error, urllib.request
request = urllib.request.Request("http://platform-lb:9000/api/v1/users/1/timeline", headers={
    "Authorization": "Bearer " + os.environ["PLATFORM_API_TOKEN"], **json.loads(sys.argv[1])})
try:
    urllib.request.urlopen(request, timeout=10)
    print(200)
except urllib.error.HTTPError as error:
    print(error.code, json.load(error)["detail"])
"""


def test_the_web_tiers_token_without_a_member_assertion_acts_for_no_one():
    """From a web node, as a stolen token would be used: the platform refuses to act for
    member 1 without an assertion it signed at member 1's login."""
    for headers in ({}, {"X-Acting-User": "1"}, {"X-Member-Assertion": "forged"}):
        answer = compose("exec", "-T", "web1", "python", "-c", CALL_THE_PLATFORM, json.dumps(headers)).stdout
        assert answer.startswith("401 "), (headers, answer)
