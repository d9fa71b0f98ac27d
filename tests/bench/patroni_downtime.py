#!/usr/bin/env python3
"""Write unavailability of a Patroni primary: the seed's manual step vs baremetal.k8s.patroni_config.

A writer inserts a row every 20 ms into the primary through one libpq connection string listing every
member with target_session_attrs=read-write; on any error it reconnects and keeps trying at the same pace.
Unavailability = the sum, over outages, of the time from the first failed insert to the next committed one.

The same sequence runs once per method, on the same lab cluster, from the same baseline:
  1. a reload-only tweak (work_mem),  2. a restart-needed tweak (shared_buffers),  3. the same tweak again.
Methods:
  seed:    PATCH /config with the body, then `patronictl restart --force <scope>` (the seed's manual step),
           with a pause of loop_wait + 2 s in between so every member has picked the change up (a human pace).
  module:  `ansible localhost -m baremetal.k8s.patroni_config` (restart: pending, primary restarted in place).
  module-switchover: the same with primary_restart_method=switchover.

Usage (as root, from the checkout with .venv): .venv/bin/python tests/bench/patroni_downtime.py [--cluster 4]
Needs the lab (tests/lab/patroni/up.sh, run here unless --no-up) and psycopg2 (in .venv).
"""

import argparse
import base64
import json
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("BMK8S_LAB_DIR", "/var/tmp/bmk8s-lab"))
ANSIBLE = REPO / ".venv" / "bin" / "ansible"
STEPS = [
    ("reload-only", {"postgresql": {"parameters": {"work_mem": "5MB"}}}),
    ("restart-needed", {"postgresql": {"parameters": {"shared_buffers": "48MB"}}}),
    ("same again", {"postgresql": {"parameters": {"shared_buffers": "48MB"}}}),
]
BASELINE = {"postgresql": {"parameters": {"work_mem": "4MB", "shared_buffers": "32MB"}}}


def read_env(path):
    env = {}
    for raw in Path(path).read_text().splitlines():
        line = raw.removeprefix("export ").strip()
        if "=" in line:
            key, value = line.split("=", 1)
            env[key] = value
    return env


class Lab:
    def __init__(self, prefix):
        env = read_env(LAB_DIR / "patroni.env")
        self.secrets = read_env(env["PATRONI_SECRETS_FILE"])
        self.api_url = env[prefix + "_API_URL"]
        self.scope = env[prefix + "_SCOPE"]
        self.config_file = env[prefix + "_CONFIG_FILE"]
        self.log_dir = Path(env[prefix + "_LOG_DIRS"])
        self.patronictl = env.get(prefix + "_PATRONICTL", "/usr/bin/patronictl")
        ports = env[prefix + "_PG_PORTS"].split(",")
        self.dsn = (
            "host=%s port=%s dbname=postgres user=%s password=%s target_session_attrs=read-write "
            "connect_timeout=2 options='-c statement_timeout=2000'"
            % (
                ",".join(["127.0.0.1"] * len(ports)),
                ",".join(ports),
                self.secrets["PATRONI_PG_SUPERUSER"],
                self.secrets["PATRONI_PG_PASSWORD"],
            )
        )

    def get(self, path):
        with urllib.request.urlopen(self.api_url + path, timeout=5) as resp:  # noqa: S310 (loopback)
            return json.load(resp)

    def patch(self, body):
        token = "%s:%s" % (self.secrets["PATRONI_REST_USERNAME"], self.secrets["PATRONI_REST_PASSWORD"])
        req = urllib.request.Request(  # noqa: S310 (loopback)
            self.api_url + "/config", data=json.dumps(body).encode(), method="PATCH"
        )
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", "Basic " + base64.b64encode(token.encode()).decode())
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback)
            return resp.status

    def requests(self, what):
        return sum(p.read_text(errors="replace").count('"%s ' % what) for p in self.log_dir.glob("*/patroni.log*"))

    def wait_healthy(self, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                ms = self.get("/cluster")["members"]
                ok = [m for m in ms if m["state"] in ("running", "streaming") and not m.get("pending_restart")]
                if len(ok) == 3 and all(isinstance(m.get("lag"), int) for m in ok if m["role"] != "leader"):
                    return
            except OSError:
                pass
            time.sleep(1)
        raise SystemExit("cluster %s not healthy" % self.scope)

    def module(self, config, **extra):
        args = dict(api_url=self.api_url, config=config, **extra)
        env = dict(
            os.environ,
            PATRONI_RESTAPI_USERNAME=self.secrets["PATRONI_REST_USERNAME"],
            PATRONI_RESTAPI_PASSWORD=self.secrets["PATRONI_REST_PASSWORD"],
            ANSIBLE_LOCALHOST_WARNING="false",
        )
        cmd = [str(ANSIBLE), "localhost", "-m", "baremetal.k8s.patroni_config", "-a", json.dumps(args)]
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit("patroni_config failed:\n" + proc.stdout[-2000:])

    def seed_step(self, config, pause):
        self.patch(config)
        time.sleep(pause)
        proc = subprocess.run(
            [self.patronictl, "-c", self.config_file, "restart", "--force", self.scope],
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.returncode


class Writer(threading.Thread):
    """Inserts every `interval` seconds; records outages (first failure -> next success)."""

    def __init__(self, dsn, interval):
        super().__init__(daemon=True)
        self.dsn, self.interval = dsn, interval
        self.stop_at = None
        self.outages, self.ok, self.failed = [], 0, 0
        self._down_since = None
        self._conn = None

    def _insert(self):
        if self._conn is None:
            self._conn = psycopg2.connect(self.dsn)
            self._conn.autocommit = True
            with self._conn.cursor() as cur:
                cur.execute("create table if not exists bench_writes (id bigserial primary key, at timestamptz)")
        with self._conn.cursor() as cur:
            cur.execute("insert into bench_writes (at) values (now())")

    def run(self):
        next_at = time.monotonic()
        while self.stop_at is None or time.monotonic() < self.stop_at:
            started = time.monotonic()
            try:
                self._insert()
                self.ok += 1
                if self._down_since is not None:
                    self.outages.append(time.monotonic() - self._down_since)
                    self._down_since = None
            except psycopg2.Error:
                self.failed += 1
                if self._down_since is None:
                    self._down_since = started
                try:
                    self._conn.close()
                except Exception:  # noqa: BLE001, S110 - the connection is being dropped anyway
                    pass
                self._conn = None
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    def finish(self, tail=3.0):
        self.stop_at = time.monotonic() + tail
        self.join()
        if self._down_since is not None:  # still down at the end: count it
            self.outages.append(time.monotonic() - self._down_since)


def measure(lab, method, interval, pause):
    lab.module(BASELINE)  # same starting point for every method (not measured)
    lab.wait_healthy()
    restarts, switchovers = lab.requests("POST /restart"), lab.requests("POST /switchover")
    writer = Writer(lab.dsn, interval)
    writer.start()
    deadline = time.monotonic() + 30  # the writer commits steadily before anything changes
    while writer.ok < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    if writer.ok < 50:
        raise SystemExit("the writer could not insert into %s's primary" % lab.scope)
    started = time.monotonic()
    rcs = []
    for _name, config in STEPS:
        if method == "seed":
            rcs.append(lab.seed_step(config, pause))
        elif method == "module":
            lab.module(config)
        else:
            lab.module(config, primary_restart_method="switchover")
    elapsed = time.monotonic() - started
    lab.wait_healthy()
    writer.finish()
    return {
        "method": method,
        "unavailable_s": round(sum(writer.outages), 3),
        "outages": len(writer.outages),
        "failed_inserts": writer.failed,
        "ok_inserts": writer.ok,
        "restarts": lab.requests("POST /restart") - restarts,
        "switchovers": lab.requests("POST /switchover") - switchovers,
        "sequence_s": round(elapsed, 1),
        "patronictl_exit_codes": rcs,
        "pending_after": sorted(m["name"] for m in lab.get("/cluster")["members"] if m.get("pending_restart")),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cluster", choices=["3", "4"], default="3", help="lab3 (Debian 3.0.2) or lab4 (PyPI 4.x)")
    parser.add_argument("--methods", default="seed,module,module-switchover")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (methods interleaved); reports means")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between inserts")
    parser.add_argument("--no-up", action="store_true", help="do not run tests/lab/patroni/up.sh first")
    opts = parser.parse_args()
    if not opts.no_up:
        subprocess.run([str(REPO / "tests/lab/patroni/up.sh")], check=True)
    lab = Lab("PATRONI" if opts.cluster == "3" else "PATRONI4")
    pause = int(str(lab.get("/config").get("loop_wait", 10))) + 2
    methods = opts.methods.split(",")
    runs = [measure(lab, m, opts.interval, pause) for _ in range(opts.repeat) for m in methods]
    lab.module(BASELINE)
    version = lab.get("/patroni")["patroni"]["version"]
    print(
        "cluster %s (patroni %s), writer every %d ms, %d round(s)"
        % (lab.scope, version, opts.interval * 1000, opts.repeat)
    )
    head = ("method", "unavailable_s", "outages", "failed", "restarts", "switchovers", "sequence_s", "pending_after")
    print("%-18s %14s %8s %8s %9s %12s %11s %s" % head)
    for r in runs:
        print(
            "%-18s %14.3f %8d %8d %9d %12d %11.1f %s"
            % (
                r["method"],
                r["unavailable_s"],
                r["outages"],
                r["failed_inserts"],
                r["restarts"],
                r["switchovers"],
                r["sequence_s"],
                ",".join(r["pending_after"]) or "-",
            )
        )
    mean = {m: sum(r["unavailable_s"] for r in runs if r["method"] == m) / opts.repeat for m in methods}
    for m in methods:
        print("mean unavailability %-18s %.3f s" % (m, mean[m]))
    if mean.get("module") and "seed" in mean:
        print("ratio seed/module unavailability: %.2f" % (mean["seed"] / mean["module"]))
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
