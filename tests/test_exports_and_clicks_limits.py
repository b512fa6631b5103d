"""Exports and clicks under control, through the edge: a member has one export in
progress at a time, and a reader's clicks on a story count once per window however
often they click (or forge their Referer)."""

import re
import time
import uuid

import requests

from stack import Visitor, broken, env_value, psql, wait_for

IN_PROGRESS = "An export is already in progress: wait for it to finish."
EXPORT_PAGE = re.compile(r"/exports/([0-9a-f-]{36})$")


def request_export(member: Visitor) -> requests.Response:
    """Press "Export my data" on the settings page, as a browser does (it follows the 303)."""
    return member.submit("/settings/export", {}, form_path="/settings/profile")


def test_a_members_second_export_while_one_is_unfinished_is_refused_with_a_clear_message(edge):
    username = f"exporter_{uuid.uuid4().hex[:8]}"
    member = Visitor(edge).sign_up(username)
    exports = (
        "SELECT count(*) FROM jobs_export e JOIN news_user u ON u.id = e.user_id "
        f"WHERE u.username = '{username}'"
    )
    # With the export consumer away, the first export stays queued for as long as the test needs.
    with broken("export-consumer", "stop"):
        first = request_export(member)
        assert first.status_code == 200 and EXPORT_PAGE.search(first.url), first.url
        second = request_export(member)
        assert second.status_code == 200, "a page that explains, not an error page"
        assert second.url == f"{edge}/settings/profile"
        assert IN_PROGRESS in second.text
        assert psql(exports) == "1", "the refused request made no export"
    export_id = EXPORT_PAGE.search(first.url)[1]
    wait_for(
        lambda: member.get(f"/exports/{export_id}.json").json()["status"] == "done",
        timeout=120,
        what="the first export built once the export consumer is back",
    )
    third = request_export(member)
    assert EXPORT_PAGE.search(third.url) and EXPORT_PAGE.search(third.url)[1] != export_id, (
        "once the first has finished, the member may ask again"
    )
    assert psql(exports) == "2"


def test_thirty_click_throughs_by_one_visitor_on_one_story_count_once(edge):
    """Every click is sent on to the story; one is counted. A story of the test's own,
    which nobody else has clicked; the visitor is this machine's address as the edge
    sees it (no session). The load generators' key lets the flood past the edge's
    per-address limit on click-throughs, which earlier tests from this same address
    may have used up: what is tested here is the counting behind it."""
    author = Visitor(edge).sign_up(f"flooded_{uuid.uuid4().hex[:8]}")
    url = f"https://example.com/flooded/{uuid.uuid4().hex[:8]}"
    story_id = author.post_story(f"Clicked thirty times {uuid.uuid4().hex[:6]}", url=url)
    referrer = f"flood-{uuid.uuid4().hex[:8]}.example"
    headers = {"Referer": f"https://{referrer}/", "X-Load-Generator": env_value("LOAD_GENERATOR_KEY")}
    answers = [
        requests.get(f"{edge}/s/{story_id}/go", headers=headers, allow_redirects=False, timeout=10)
        for _ in range(30)
    ]
    assert [(answer.status_code, answer.headers.get("Location")) for answer in answers] == [(302, url)] * 30
    counted = f"SELECT count(*) FROM news_click WHERE story_id = {story_id}"
    wait_for(lambda: psql(counted) == "1", timeout=60, what="the first click stored")
    time.sleep(3)  # any other click counted would have landed by now (the consumer writes every second)
    assert psql(counted) == "1", "thirty clicks by one visitor, counted once"
    # Another reader (the author, logged in: a member counts as the member) counts too.
    assert author.get(f"/s/{story_id}/go", allow_redirects=False).status_code == 302
    wait_for(lambda: psql(counted) == "2", timeout=60, what="another reader's click stored")
