"""The Patroni lab part itself, on a private instance (own state dir and ports, lab3 only).

- Cold start from a working directory user postgres cannot read (a clone under a 0700 home, as /root is):
  the part comes up, `lab.sh status` checks its processes, `lab.sh down` stops everything within seconds.
- A start that fails (a member's REST port taken) prints the cause from the failing member's output and
  stops everything it started: no process of the instance is left, status says down.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import labenv
import pytest

pytestmark = pytest.mark.lab  # the lab's own tests: their own tier (make lab-test), they bring parts up

LAB_SH = labenv.LAB_SH
PORTS = {"LAB_PATRONI_ETCD_PORT": 12579, "LAB_PATRONI_REST_BASE": 18208, "LAB_PATRONI_PG_BASE": 54521}


@pytest.fixture
def private(tmp_path):
    """(env, cwd, lab_dir): a private Patroni lab instance, run from a 0700 directory; torn down after."""
    if os.geteuid() != 0:
        pytest.fail("the lab needs root: run the integration tier as root")
    lab_dir = Path("/var/tmp/bmk8s-labtest-%d" % os.getpid())
    env = dict(os.environ, BMK8S_LAB_DIR=str(lab_dir), LAB_PATRONI4="0", LAB_PATRONI_STANDBY="0")
    env.update({k: str(v) for k, v in PORTS.items()})
    cwd = tmp_path / "clone"
    cwd.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o700)
    yield env, cwd, lab_dir
    subprocess.run([LAB_SH, "down", "patroni"], env=env, cwd=cwd, capture_output=True, check=False, timeout=120)
    shutil.rmtree(lab_dir, ignore_errors=True)


def lab(private, *args, timeout=300):
    env, cwd, _lab_dir = private
    return subprocess.run(
        [LAB_SH, *args], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def leftovers(lab_dir):
    """Processes of user postgres whose command line names the instance's state dir."""
    res = subprocess.run(
        ["pgrep", "-a", "-u", "postgres", "-f", "%s/" % lab_dir], check=False, capture_output=True, text=True
    )
    return res.stdout.splitlines()


def test_cold_start_from_an_unreadable_cwd_then_prompt_down(private):
    env, cwd, lab_dir = private
    unreadable = subprocess.run(
        ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "ls", str(cwd)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert unreadable.returncode != 0, "the test needs a working directory postgres cannot read"

    up = lab(private, "up", "patroni")
    assert up.returncode == 0, up.stderr[-4000:]
    outs = "".join(p.read_text(errors="replace") for p in (lab_dir / "patroni").glob("lab3/*.out"))
    assert "PermissionError" not in outs
    status = lab(private, "status", "patroni")
    assert status.returncode == 0, status.stdout
    assert status.stdout.startswith("patroni: up (4 checked: etcd lab3/pg1 lab3/pg2 lab3/pg3;"), status.stdout
    assert len(leftovers(lab_dir)) >= 10  # etcd, 3 x (subreaper, Patroni, postmaster)

    started = time.monotonic()
    down = lab(private, "down", "patroni")
    took = time.monotonic() - started
    assert down.returncode == 0, down.stderr
    assert leftovers(lab_dir) == []
    assert took < 30, "lab.sh down patroni took %.1f s" % took
    assert lab(private, "status", "patroni").stdout == "patroni: down\n"


def test_failed_start_prints_the_cause_and_leaves_nothing_running(private):
    env, cwd, lab_dir = private
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", PORTS["LAB_PATRONI_REST_BASE"] + 1))  # pg2's REST API
    blocker.listen()
    try:
        up = lab(private, "up", "patroni")
    finally:
        blocker.close()
    assert up.returncode != 0
    assert "last 20 lines of %s/patroni/lab3/pg2.out" % lab_dir in up.stderr, up.stderr[-4000:]
    assert "Address already in use" in up.stderr
    assert "lab3/pg2 (Patroni) exited while starting" in up.stderr
    assert leftovers(lab_dir) == [], "a failed start stops what it started"
    status = lab(private, "status", "patroni")
    assert (status.returncode, status.stdout) == (0, "patroni: down\n")
    assert not (lab_dir / "patroni.env").exists()


def test_down_without_pid_files_stops_everything(private):
    """A state from an older lab, or lost pid files: down finds the instance's processes by their paths,
    including a postmaster whose Patroni was killed hard."""
    env, cwd, lab_dir = private
    up = lab(private, "up", "patroni")
    assert up.returncode == 0, up.stderr[-4000:]
    pdir = lab_dir / "patroni"
    os.kill(int((pdir / "lab3" / "pg1.pid").read_text()), signal.SIGKILL)
    for pidfile in [pdir / "etcd.pid", *pdir.glob("lab3/*.pid")]:
        pidfile.unlink()
    assert any("/pg1/data" in line for line in leftovers(lab_dir)), "pg1's postmaster outlives its Patroni"
    started = time.monotonic()
    down = lab(private, "down", "patroni")
    took = time.monotonic() - started
    assert down.returncode == 0, down.stderr
    assert leftovers(lab_dir) == []
    assert took < 45, "lab.sh down patroni took %.1f s" % took
