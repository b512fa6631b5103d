"""Checks on the repository itself, which need no running stack."""

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)", path.read_text(), flags=re.M)
    return {re.sub(r"\[.*\]", "", name).lower(): version for name, version in found}


def test_services_sharing_a_library_pin_the_same_version():
    platform = pins(ROOT / "platform" / "requirements.txt")
    for other in ("cron", "webapp", "loadtest"):
        for name, version in pins(ROOT / other / "requirements.txt").items():
            if name in platform:
                assert version == platform[name], f"{other} pins {name}=={version}, platform {platform[name]}"


def test_no_python_package_is_named_platform():
    """A package called `platform` would shadow the standard library module."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not [path for path in tracked.splitlines() if path.endswith("platform/__init__.py")]


def test_the_vendored_browser_libraries_are_the_versions_the_lock_file_pins():
    """`make vendor` copies them from npm; a hand-edited or stale copy would not say so."""
    lock = json.loads((ROOT / "webapp" / "package-lock.json").read_text())
    wanted = json.loads((ROOT / "webapp" / "package.json").read_text())["dependencies"]
    assert lock["packages"]["node_modules/uplot"]["version"] == wanted["uplot"]
    script = ROOT / "webapp" / "web" / "static" / "web" / "vendor" / "uplot" / "uPlot.iife.min.js"
    banner = script.read_text()[:200]
    assert f"(v{wanted['uplot']})" in banner, banner


def test_every_third_party_image_has_a_registry_free_stand_in():
    """offline/images.env lists each image the compose file takes from a registry."""
    compose = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+_IMAGE):-", compose))
    offline = set(re.findall(r"^([A-Z_]+_IMAGE)=", (ROOT / "offline" / "images.env").read_text(), flags=re.M))
    assert used == offline
    for variable in offline:
        folder = variable.removesuffix("_IMAGE").lower().replace("_", "-")
        assert (ROOT / "offline" / folder / "Dockerfile").exists(), folder
