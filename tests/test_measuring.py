"""The README's "Measure it" tools: make profile samples a running node's Python, and
the benchmark refuses a run it cannot make. (make bench-short itself runs at the end
of make ci, where its figures are printed, never asserted.)"""

import subprocess
import sys
import threading
import time

import requests

from stack import ROOT, make

PROFILE = ROOT / "reports" / "profile-web1.txt"


def test_make_profile_samples_the_python_of_a_node_under_load(edge):
    PROFILE.unlink(missing_ok=True)
    stop = threading.Event()

    def load() -> None:
        deadline = time.monotonic() + 30  # bounded, whatever happens to the profiler
        while not stop.is_set() and time.monotonic() < deadline:
            requests.get(f"{edge}/", timeout=10)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        profile = make("profile", "NODE=web1", "FORMAT=raw", "PROFILE_SECONDS=4", timeout=180)
    finally:
        stop.set()
        loader.join()
    assert "Profile: reports/profile-web1.txt" in profile.stdout
    stacks = PROFILE.read_text()
    # Pages were rendered while it sampled: Django's handler and the home view are in it.
    assert "WSGIHandler.__call__" in stacks and "home (web/views/" in stacks, stacks[:2000]


def test_make_profile_without_a_node_says_how_to_name_one(stack):
    profile = make("profile", check=False)
    assert profile.returncode != 0
    assert "Name the container: make profile NODE=web2" in profile.stderr


def test_the_benchmark_refuses_a_run_length_it_cannot_make():
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--seconds", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--seconds must be a whole number from 1 to 600" in run.stderr
