"""The lab as integration tests see it: bring components up (idempotent) and read what they export.

Every component writes $BMK8S_LAB_DIR/<component>.env (`export K=V` lines) once it is up; `up()` runs
tests/lab/lab.sh up for the components not yet brought up in this session and returns their merged env.
The lab needs root; without it, or when a component cannot come up, the test fails with the reason.
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("BMK8S_LAB_DIR", "/var/tmp/bmk8s-lab"))
LAB_SH = REPO / "tests" / "lab" / "lab.sh"
_brought_up: set[str] = set()


def read_env(path: Path | str) -> dict:
    """Parse a file of `export K=V` / `K=V` lines (values optionally quoted)."""
    env = {}
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        env[key.strip()] = value.strip().strip("'\"")
    return env


def up(*components: str, again: bool = False) -> dict:
    """Bring the components up (once per test session, or once more with `again`, e.g. so servers also
    listen on a bridge that came up later) and return their merged env files."""
    todo = [c for c in components if again or c not in _brought_up]
    if todo:
        if os.geteuid() != 0:
            pytest.fail(f"the lab ({' '.join(todo)}) needs root: run the integration tier as root")
        res = subprocess.run([LAB_SH, "up", *todo], capture_output=True, text=True, check=False)
        if res.returncode != 0:
            pytest.fail(f"tests/lab/lab.sh up {' '.join(todo)} failed (rc={res.returncode}):\n{res.stderr[-4000:]}")
        _brought_up.update(todo)
    env = {}
    for component in components:
        env.update(read_env(LAB_DIR / f"{component}.env"))
    return env
