"""A real browser (headless Chromium) walks the product through the edge load balancer:
sign up, follow, post, and the post shows on a follower's home timeline; export one's
data and download it once the off-line job is done."""

import re
import uuid

import pytest

from stack import env_value

sync_api = pytest.importorskip("playwright.sync_api")


def sign_up(browser, edge: str, username: str):
    page = browser.new_context().new_page()
    page.goto(f"{edge}/")
    page.get_by_test_id("nav-signup").click()
    page.fill("#id_username", username)
    page.fill("#id_name", username.replace("_", " ").title())
    page.fill("#id_password", "correct horse battery")
    page.get_by_test_id("account-submit").click()
    sync_api.expect(page.get_by_test_id("nav-me")).to_contain_text(username)
    return page


def test_a_post_reaches_a_followers_timeline(browser, edge):
    tag = uuid.uuid4().hex[:8]
    author = sign_up(browser, edge, f"author_{tag}")
    reader = sign_up(browser, edge, f"reader_{tag}")

    # The page is styled by the CDN host's stylesheet, not by the web node.
    assert reader.evaluate("getComputedStyle(document.body).margin") == "0px"

    reader.goto(f"{edge}/u/author_{tag}")
    reader.get_by_test_id("follow-button").click()
    sync_api.expect(reader.get_by_test_id("followers-count")).to_contain_text("1")

    author.get_by_test_id("nav-submit").click()
    title = f"Browser-made story {tag}"
    author.fill("#id_title", title)
    author.fill("#id_url", f"https://example.com/{tag}")
    author.get_by_test_id("story-submit").click()
    sync_api.expect(author.get_by_test_id("story-page")).to_contain_text(title)

    # The author's followers get the story from the fan-out consumer, moments later:
    # the reader reloads the home timeline, as a person would, until it is there.
    reader.get_by_test_id("nav-home").click()
    for _ in range(20):
        if any(title in text for text in reader.get_by_test_id("story").all_inner_texts()):
            break
        reader.wait_for_timeout(500)
        reader.reload()
    sync_api.expect(reader.get_by_test_id("story").first).to_contain_text(title)


def test_an_export_is_scheduled_then_polled_until_it_can_be_downloaded(browser, edge):
    """Schedule, then poll: the page follows the job by itself (export.js, from the CDN
    host) and offers the file without being reloaded. user1's export (about 10,000
    stories) takes the consumer a moment, so the polling is seen at work."""
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{edge}/login")
    page.fill("#id_username", "user1")
    page.fill("#id_password", env_value("DEMO_PASSWORD"))
    page.get_by_test_id("account-submit").click()
    sync_api.expect(page.get_by_test_id("nav-me")).to_contain_text("user1")

    page.goto(f"{edge}/settings/profile")
    page.get_by_test_id("export-request").click()
    sync_api.expect(page.get_by_test_id("export")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    sync_api.expect(page.get_by_test_id("export-download")).to_be_visible(timeout=60_000)
    assert page.evaluate("window.notReloaded === true"), "the script polled; the page was not reloaded"
    sync_api.expect(page.get_by_test_id("export-status")).to_have_text("Done")
    # Until when the file is kept (EXPORT_RETENTION_HOURS), also filled in by the script.
    expires = page.get_by_test_id("export-expires")
    sync_api.expect(expires).to_be_visible()
    sync_api.expect(expires).to_contain_text(re.compile(r"Kept until \d+ \w{3} 20\d\d, \d\d:\d\d UTC"))

    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    with open(download.value.path(), encoding="utf-8") as file:
        assert '"username": "user1"' in file.read()
