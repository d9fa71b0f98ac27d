"""The lab as integration tests see it: which parts are up, and what they export.

Every lab part writes $BMK8S_LAB_DIR/<part>.env (`export K=V` lines) once it is up.

* `require(*parts)` is for the collection's tests (modules, playbooks): they use the lab, they do not build
  it. A part that is not up fails the test with the command that brings it up; `make test` runs
  `make lab-up` as a tier of its own before them.
* `up(*parts)` is for the lab's own tests (test_lab_*.py, marked `lab`): it runs tests/lab/lab.sh up for the
  parts not yet brought up in this session (idempotent; needs root) and returns their merged env.
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


def status(*parts: str) -> dict:
    """{part: the line `lab.sh status` prints for it} ("<part>: up (...)", "<part>: down", "<part>: BROKEN ...")."""
    res = subprocess.run([LAB_SH, "status", *parts], capture_output=True, text=True, check=False, timeout=120)
    lines = {}
    for line in res.stdout.splitlines():
        part, sep, _rest = line.partition(": ")
        if sep and part in parts:
            lines[part] = line
    return lines


def require(*parts: str) -> dict:
    """The merged env of lab parts that must already be up; fails the test (never builds the lab) otherwise."""
    lines = status(*parts)
    missing = [p for p in parts if not lines.get(p, "").startswith(f"{p}: up")]
    if missing:
        said = "\n".join(f"  {lines.get(p, p + ': no status')}" for p in missing)
        pytest.fail(
            f"lab part(s) {' '.join(missing)} not up:\n{said}\n"
            f"bring them up (as root) with `tests/lab/lab.sh up {' '.join(missing)}`, or the whole lab with "
            "`make lab-up`, then run the tests again",
            pytrace=False,
        )
    env = {}
    for part in parts:
        env.update(read_env(LAB_DIR / f"{part}.env"))
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
