"""Checks on the repository itself, which need no running stack."""

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
