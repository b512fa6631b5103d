"""Write .env from .env.example, each `change-me` replaced by a fresh random secret.

An existing .env is kept as it is, and gains only the variables a newer .env.example
added (with fresh secrets), so `make env` after an update never changes a password in
use. The file is readable by its owner alone: it holds every password of the stack.
"""

import os
import re
import secrets
import sys
from pathlib import Path

ASSIGNMENT = re.compile(r"^([A-Z0-9_]+)=(.*)$")


def fill(line: str) -> str:
    return re.sub(r"=change-me$", lambda _: "=" + secrets.token_urlsafe(48), line)


def main(example: Path, target: Path) -> None:
    lines = example.read_text().splitlines()
    os.umask(0o077)
    if not target.exists():
        target.write_text("".join(fill(line) + "\n" for line in lines))
        print(f"Wrote {target} with fresh secrets (from {example}), readable by you alone.")
    else:
        present = {match[1] for line in target.read_text().splitlines() if (match := ASSIGNMENT.match(line))}
        missing = [line for line in lines if (match := ASSIGNMENT.match(line)) and match[1] not in present]
        if missing:
            with target.open("a") as file:
                file.write(f"# Added from {example}:\n" + "".join(fill(line) + "\n" for line in missing))
            names = ", ".join(ASSIGNMENT.match(line)[1] for line in missing)  # type: ignore[index]
            print(f"Added to {target} what {example} has and it lacked: {names}.")
    target.chmod(0o600)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
