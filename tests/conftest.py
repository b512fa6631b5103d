"""Whole-stack tests: they start the stack once (`docker compose up --wait`), talk to
it through the doors a user has (published ports), and look inside with
`docker compose exec` only to check state. They poll with a timeout, never sleep
for a fixed time, and print the stack's state when something fails."""

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

from stack import Visitor, compose, make, missing_images, published


@pytest.fixture(scope="session")
def stack() -> None:
    """The running stack: started here unless `make up` already did (then this is quick).
    Tests never build an image: `make build` does, before any test starts."""
    if missing := missing_images():
        pytest.exit(f"Images not built: {', '.join(missing)}. Run `make build` (or `make up`) first.", 2)
    compose("up", "--no-build", "--detach", "--wait", "--wait-timeout", "600", timeout=900)


@pytest.fixture
def load_accounts_closed():
    """The members of a Locust load (loadtest_...) and all they wrote go after the test
    (load.py: the load and what it counts)."""
    yield
    compose(
        "run", "--rm", "--no-deps", "-T", "platform1",
        "python", "manage.py", "close_accounts", "--username-prefix", "loadtest_",
    )  # fmt: skip


@pytest.fixture(scope="session")
def edge(stack) -> str:
    return f"http://{published('edge-lb', 8080)}"


@pytest.fixture(scope="session")
def cdn(stack) -> str:
    return f"http://{published('cdn', 80)}"


@pytest.fixture(scope="session")
def stats(stack) -> str:
    return f"http://{published('edge-lb', 8404)}"


@pytest.fixture(scope="session")
def operator(edge) -> Iterator[Visitor]:
    """A member made an operator as a person would (`make operator`), logged in: they see
    /status/detail (versions, WAL positions, raw errors). The flag goes at the end."""
    username = f"operator_{uuid.uuid4().hex[:8]}"
    visitor = Visitor(edge).sign_up(username)
    make("operator", f"USERNAME={username}", timeout=120)
    try:
        yield visitor
    finally:
        make("operator", f"USERNAME={username}", "OFF=1", timeout=120)


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
# Quiet, self-contained Chromium: no sandbox as root in CI, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, the system's own, driven by Playwright (test_browser, test_dashboard)."""
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (Debian package: chromium)")
        pytest.skip("no Chromium found: install it (Debian: chromium) or set CHROMIUM_PATH")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def pytest_terminal_summary(terminalreporter, exitstatus) -> None:
    """When a test failed, show the state of the stack: it usually says why."""
    if exitstatus == 0 or os.environ.get("STACK_REPORT") == "0":
        return
    terminalreporter.section("state of the stack")
    for args in (("ps", "--all"), ("logs", "--no-color", "--tail", "30")):
        result = compose(*args, check=False, timeout=60)
        terminalreporter.write(result.stdout + result.stderr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (.ci/run sets CI=1) a skipped test fails the run: a test that could not run
    proves nothing, and a green run must not hide it."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
