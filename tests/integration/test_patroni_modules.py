"""patroni_config and patroni_info through real ansible against real 3-member Patroni clusters.

tests/lab/patroni/up.sh brings the clusters up (idempotent) and they stay up afterwards. Every test runs
against Debian's patroni 3.0.2 and, when the lab has it, PyPI patroni 4.x (role name `primary`).
Restart order is read from PostgreSQL itself (pg_postmaster_start_time()), PATCH requests from Patroni's
own request log (patroni.api at DEBUG), configuration from GET /config.
"""

import base64
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import labenv
import psycopg2
import pytest

REPO = labenv.REPO
ANSIBLE_PLAYBOOK = REPO / ".venv" / "bin" / "ansible-playbook"
PLAY_VARS = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}


@pytest.fixture(scope="session")
def lab():
    env = labenv.require("patroni")
    return env, labenv.read_env(env["PATRONI_SECRETS_FILE"])


class Cluster:
    """One lab cluster: REST URLs, PostgreSQL ports, logs, credentials."""

    def __init__(self, env, secrets, prefix):
        self.api_url = env[prefix + "_API_URL"]
        self.api_urls = env[prefix + "_API_URLS"].split(",")
        self.pg_ports = [int(p) for p in env[prefix + "_PG_PORTS"].split(",")]
        self.log_dir = Path(env[prefix + "_LOG_DIRS"])
        self.scope = env[prefix + "_SCOPE"]
        self.version = env[prefix + "_VERSION"]
        self.secrets = secrets
        self.pid_dir = self.log_dir.parent

    def get(self, path, url=None):
        with urllib.request.urlopen((url or self.api_url) + path, timeout=5) as resp:  # noqa: S310 (http to loopback)
            return json.load(resp)

    def patch_config(self, body):
        """PATCH /config directly (to set a case up or restore it), with the lab's REST credentials."""
        token = "%s:%s" % (self.secrets["PATRONI_REST_USERNAME"], self.secrets["PATRONI_REST_PASSWORD"])
        req = urllib.request.Request(  # noqa: S310 (http to loopback)
            self.api_url + "/config",
            data=json.dumps(body).encode(),
            method="PATCH",
            headers={
                "Content-Type": "application/json",
                "Authorization": "Basic " + base64.b64encode(token.encode()).decode(),
            },
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return json.load(resp)

    def config(self):
        return self.get("/config")

    def members(self):
        """name -> /cluster entry."""
        return {m["name"]: m for m in self.get("/cluster")["members"]}

    def leader(self):
        return next(n for n, m in self.members().items() if m["role"] == "leader")

    def requests(self, what, status=200):
        """How many requests `what` (e.g. 'PATCH /config') Patroni's request log shows across members, answered
        with `status` (the credentials probe, an empty PATCH, is answered 400)."""
        count = 0
        for log in self.log_dir.glob("*/patroni.log*"):
            count += log.read_text(errors="replace").count('"%s HTTP/1.1" %s ' % (what, status))
        return count

    def sql(self, port, query):
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=port,
            user=self.secrets["PATRONI_PG_SUPERUSER"],
            password=self.secrets["PATRONI_PG_PASSWORD"],
            dbname="postgres",
            connect_timeout=5,
        )
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                return cur.fetchone()[0]
        finally:
            conn.close()

    def names_by_port(self, timeout=60):
        """PostgreSQL port -> member name. Ports never change, but a member that just restarted can be missing from
        /cluster for a moment (its key re-registers): poll, bounded, until every port is named."""
        deadline = time.time() + timeout
        while True:
            found = {m["port"]: n for n, m in self.members().items()}
            if all(p in found for p in self.pg_ports):
                return found
            if time.time() > deadline:
                raise AssertionError("members %s do not name every port %s" % (found, self.pg_ports))
            time.sleep(1)

    def start_times(self):
        """member name -> pg_postmaster_start_time(), from PostgreSQL itself."""
        by_port = self.names_by_port()
        return {by_port[p]: self.sql(p, "select pg_postmaster_start_time()") for p in self.pg_ports}

    def settings(self, name):
        """member name -> current_setting(name) on each member."""
        by_port = self.names_by_port()
        return {by_port[p]: self.sql(p, "select current_setting('%s')" % name) for p in self.pg_ports}

    def wait_healthy(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                ms = self.members()
                if len(ms) == 3 and all(m["state"] in ("running", "streaming") for m in ms.values()):
                    if all(isinstance(m.get("lag"), int) for m in ms.values() if m["role"] != "leader"):
                        return ms
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError("cluster %s not healthy: %s" % (self.scope, self.get("/cluster")))

    def patroni_pid(self, name):
        return int((self.pid_dir / ("%s.pid" % name)).read_text())


@pytest.fixture(scope="module", params=["PATRONI", "PATRONI4"], ids=["patroni3", "patroni4"])
def cluster(request, lab):
    env, secrets = lab
    if request.param + "_API_URL" not in env:
        pytest.skip("the lab has no PyPI patroni 4.x cluster (LAB_PATRONI4=0)")
    c = Cluster(env, secrets, request.param)
    c.wait_healthy()
    return c


def run_module(cluster, module, args, tmp_path, *, check=False, diff=False, password=None):
    """Run one task with ansible-playbook from the checkout; returns the task result (json callback)."""
    task = {"name": "under test", module: dict({"api_url": cluster.api_url}, **args), "register": "r"}
    if module.endswith("patroni_config"):
        task[module].setdefault("timeout", 3)
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [task], "vars": PLAY_VARS}]
    book = tmp_path / "play.yml"
    book.write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="false")
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    env["PATRONI_RESTAPI_USERNAME"] = cluster.secrets["PATRONI_REST_USERNAME"]
    env["PATRONI_RESTAPI_PASSWORD"] = password or cluster.secrets["PATRONI_REST_PASSWORD"]
    cmd = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(book)]
    cmd += ["--check"] if check else []
    cmd += ["--diff"] if diff else []
    proc = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    out = json.loads(proc.stdout[proc.stdout.index("{") :])
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]


def params(cluster):
    return cluster.config()["postgresql"]["parameters"]


def other(value, a, b):
    return b if str(value) == str(a) else a


def test_info_reports_members_roles_and_config(cluster, tmp_path):
    res = run_module(cluster, "baremetal.k8s.patroni_info", {}, tmp_path)
    assert res["changed"] is False
    assert res["patroni_version"] == cluster.version
    assert res["primary_role_name"] == ("primary" if cluster.version.startswith("4") else "master")
    assert res["leader"] == cluster.leader()
    assert sorted(m["name"] for m in res["members"]) == ["pg1", "pg2", "pg3"]
    assert {m["name"]: m["role"] for m in res["members"]} == {n: m["role"] for n, m in cluster.members().items()}
    assert all(m["reachable"] and m["pending_restart"] is False for m in res["members"])
    assert res["pending_restart"] == []
    assert res["config"] == cluster.config()
    assert res["scope"] == cluster.scope


def test_reload_only_change_restarts_nothing(cluster, tmp_path):
    new = other(params(cluster)["work_mem"], "4MB", "5MB")
    before, patches = cluster.start_times(), cluster.requests("PATCH /config")
    res = run_module(
        cluster, "baremetal.k8s.patroni_config", {"config": {"postgresql": {"parameters": {"work_mem": new}}}}, tmp_path
    )
    assert res["changed"] is True, res
    assert res["changes"] == {"postgresql": {"parameters": {"work_mem": new}}}
    assert res["restarted"] == []
    assert params(cluster)["work_mem"] == new
    assert cluster.requests("PATCH /config") == patches + 1
    assert cluster.start_times() == before
    deadline = time.time() + 30
    while set(cluster.settings("work_mem").values()) != {new} and time.time() < deadline:
        time.sleep(1)
    assert set(cluster.settings("work_mem").values()) == {new}  # applied by reload on every member


def _restart_change(cluster, tmp_path, delta, **extra):
    current = int(params(cluster)["max_connections"])
    before, leader = cluster.start_times(), cluster.leader()
    args = {"config": {"postgresql": {"parameters": {"max_connections": current + delta}}}}
    args.update(extra)
    res = run_module(cluster, "baremetal.k8s.patroni_config", args, tmp_path)
    assert res["changed"] is True, res
    after = cluster.start_times()
    assert all(after[n] > before[n] for n in before), "every member restarted (its postmaster start time moved)"
    assert set(cluster.settings("max_connections").values()) == {str(current + delta)}
    assert res["pending_restart"] == {"pg1": False, "pg2": False, "pg3": False}
    return res, leader, after


def test_restart_needed_increase_restarts_replicas_first(cluster, tmp_path):
    res, leader, started = _restart_change(cluster, tmp_path, +10)
    replicas = sorted(n for n in started if n != leader)
    assert res["restarted"] == replicas + [leader]
    assert res["restart_order"]["order"] == "replicas_first"
    assert max(started[n] for n in replicas) < started[leader], "replicas restarted before the primary"
    assert cluster.leader() == leader
    role = "primary" if cluster.version.startswith("4") else "master"
    leader_log = (cluster.log_dir / leader / "patroni.log").read_text(errors="replace")
    assert "received restart request: {'role': '%s', 'restart_pending': True}" % role in leader_log


def test_restart_needed_decrease_restarts_primary_first(cluster, tmp_path):
    res, leader, started = _restart_change(cluster, tmp_path, -10)
    assert res["restarted"][0] == leader
    assert res["restart_order"] == {"order": "primary_first", "reason": "decrease of max_connections"}
    assert started[leader] < min(t for n, t in started.items() if n != leader), "primary restarted first"


def test_repeat_sends_no_patch_and_restarts_nothing(cluster, tmp_path):
    current = params(cluster)
    same = {
        "postgresql": {
            "parameters": {"max_connections": str(current["max_connections"]), "work_mem": current["work_mem"]}
        }
    }
    before = cluster.start_times()
    patches, restarts = cluster.requests("PATCH /config"), cluster.requests("POST /restart")
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": same}, tmp_path)
    assert res["changed"] is False and res["changes"] == {} and res["restarted"] == []
    assert cluster.requests("PATCH /config") == patches
    assert cluster.requests("POST /restart") == restarts
    assert cluster.start_times() == before


def test_null_deletes_a_key(cluster, tmp_path):
    mod = "baremetal.k8s.patroni_config"
    res = run_module(
        cluster, mod, {"config": {"postgresql": {"parameters": {"log_min_duration_statement": 1000}}}}, tmp_path
    )
    assert res["changed"] is True and params(cluster)["log_min_duration_statement"] == 1000
    res = run_module(
        cluster,
        mod,
        {"config": {"postgresql": {"parameters": {"log_min_duration_statement": None}}}},
        tmp_path,
        diff=True,
    )
    assert res["changed"] is True
    assert res["changes"] == {"postgresql": {"parameters": {"log_min_duration_statement": None}}}
    assert res["diff"]["before"] == {"postgresql": {"parameters": {"log_min_duration_statement": 1000}}}
    assert "log_min_duration_statement" not in params(cluster)
    patches = cluster.requests("PATCH /config")
    res = run_module(
        cluster, mod, {"config": {"postgresql": {"parameters": {"log_min_duration_statement": None}}}}, tmp_path
    )
    assert res["changed"] is False and cluster.requests("PATCH /config") == patches


def test_wrong_password_fails_clearly_and_changes_nothing(cluster, tmp_path):
    before = cluster.config()
    args = {
        "config": {
            "postgresql": {
                "parameters": {"work_mem": other(before["postgresql"]["parameters"]["work_mem"], "4MB", "5MB")}
            }
        }
    }
    res = run_module(cluster, "baremetal.k8s.patroni_config", args, tmp_path, password="not-the-password")
    assert res.get("failed") is True
    assert "401" in res["msg"] and "PATCH /config" in res["msg"] and cluster.api_url in res["msg"]
    assert cluster.config() == before


def test_wrong_password_fails_even_with_nothing_to_change(cluster, tmp_path):
    """Only GETs would be needed: the credentials are still proven, by an empty PATCH Patroni refuses (400)."""
    same = {"postgresql": {"parameters": {"work_mem": params(cluster)["work_mem"]}}}
    probes = cluster.requests("PATCH /config", 400)
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": same}, tmp_path, password="not-it")
    assert res.get("failed") is True and res["status"] == 401, res
    assert "credentials check" in res["msg"] and cluster.api_url in res["msg"]
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": same}, tmp_path)
    assert res["changed"] is False and res["credentials_checked"] is True
    assert cluster.requests("PATCH /config", 400) == probes + 1  # the right password's probe (the wrong one: 401)
    assert cluster.requests("PATCH /config", 401) >= 1


def test_restart_never_reports_pending_flags_then_pending_restarts_them(cluster, tmp_path):
    new = int(params(cluster)["max_connections"]) + 5
    before = cluster.start_times()
    args = {"config": {"postgresql": {"parameters": {"max_connections": new}}}, "restart": "never"}
    res = run_module(cluster, "baremetal.k8s.patroni_config", args, tmp_path)
    assert res["changed"] is True and res["restarted"] == []
    assert res["pending_restart"] == {"pg1": True, "pg2": True, "pg3": True}, res["pending_restart"]
    assert cluster.start_times() == before
    res = run_module(cluster, "baremetal.k8s.patroni_config", dict(args, restart="pending"), tmp_path)
    assert res["changes"] == {} and len(res["restarted"]) == 3
    assert res["pending_restart"] == {"pg1": False, "pg2": False, "pg3": False}
    assert set(cluster.settings("max_connections").values()) == {str(new)}


def test_live_timing_violation_only_warns_on_unrelated_changes(cluster, tmp_path):
    live = cluster.config()
    loop_wait, ttl = int(live.get("loop_wait", 10)), int(live.get("ttl", 30))
    broken = (ttl - loop_wait) // 2 + 1  # loop_wait + 2 * retry_timeout > ttl
    cluster.patch_config({"retry_timeout": broken})
    try:
        new = other(params(cluster)["work_mem"], "4MB", "5MB")
        res = run_module(
            cluster,
            "baremetal.k8s.patroni_config",
            {"config": {"postgresql": {"parameters": {"work_mem": new}}}},
            tmp_path,
        )
        assert res["changed"] is True, res
        assert params(cluster)["work_mem"] == new
        assert any("breaks the timing rule" in str(w) for w in res.get("warnings", [])), res.get("warnings")
        res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": {"loop_wait": loop_wait + 1}}, tmp_path)
        assert res.get("failed") is True and "loop_wait + 2 * retry_timeout <= ttl" in res["msg"]
        assert int(cluster.config()["loop_wait"]) == loop_wait
    finally:
        cluster.patch_config({"retry_timeout": live.get("retry_timeout", 10)})
    deadline = time.time() + 30  # GET /config may answer from a member that has not seen the restore yet
    while cluster.config().get("retry_timeout") != live.get("retry_timeout") and time.time() < deadline:
        time.sleep(0.5)
    assert cluster.config() == dict(live, postgresql=cluster.config()["postgresql"])


def test_switchover_in_synchronous_mode_goes_to_the_sync_standby(cluster, tmp_path):
    """synchronous_mode on (switched at run time): Patroni answers 412 to any other candidate."""
    cluster.patch_config({"synchronous_mode": True})
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not any(m["role"] == "sync_standby" for m in cluster.members().values()):
            time.sleep(1)
        sync = [n for n, m in cluster.members().items() if m["role"] == "sync_standby"]
        assert sync, cluster.members()
        leader = cluster.leader()
        res, _unused, _unused = _restart_change(cluster, tmp_path, +5, primary_restart_method="switchover")
        assert res["switchover"]["from"] == leader
        assert cluster.leader() == res["switchover"]["to"] != leader
        log = (cluster.log_dir / leader / "patroni.log").read_text(errors="replace")
        assert "does not match with sync_standby" not in log
    finally:
        cluster.patch_config({"synchronous_mode": None})
        deadline = time.time() + 60
        while time.time() < deadline and any(m["role"] == "sync_standby" for m in cluster.members().values()):
            time.sleep(1)
    cluster.wait_healthy()


def test_check_mode_predicts_and_changes_nothing(cluster, tmp_path):
    before_cfg, before_times = cluster.config(), cluster.start_times()
    patches, leader = cluster.requests("PATCH /config"), cluster.leader()
    new = int(before_cfg["postgresql"]["parameters"]["max_connections"]) + 5
    args = {"config": {"postgresql": {"parameters": {"max_connections": new}}}}
    res = run_module(cluster, "baremetal.k8s.patroni_config", args, tmp_path, check=True, diff=True)
    assert res["changed"] is True
    assert res["changes"] == {"postgresql": {"parameters": {"max_connections": new}}}
    assert res["restarted"] == sorted(n for n in before_times if n != leader) + [leader]
    assert res["diff"]["after"] == {"postgresql": {"parameters": {"max_connections": new}}}
    assert set(res["diff"]["before"]["postgresql"]["parameters"]) == {"max_connections"}
    assert cluster.config() == before_cfg
    assert cluster.requests("PATCH /config") == patches
    assert cluster.start_times() == before_times


def test_timing_violation_is_refused(cluster, tmp_path):
    before, patches = cluster.config(), cluster.requests("PATCH /config")
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": {"loop_wait": "60"}}, tmp_path)
    assert res.get("failed") is True
    assert "loop_wait + 2 * retry_timeout <= ttl" in res["msg"] and "60 + 2 * 10 > 30" in res["msg"]
    assert cluster.config() == before and cluster.requests("PATCH /config") == patches


def test_switchover_instead_of_primary_restart(cluster, tmp_path):
    leader = cluster.leader()
    res, _unused, _unused = _restart_change(cluster, tmp_path, +5, primary_restart_method="switchover")
    assert res["switchover"]["from"] == leader
    assert cluster.leader() == res["switchover"]["to"] != leader
    assert res["restarted"][-1] == leader


def test_member_down_refuses_restarts_then_recovers(cluster, tmp_path):
    leader = cluster.leader()
    victim = sorted(n for n in cluster.members() if n != leader)[-1]
    others = [n for n in cluster.members() if n != victim]
    before = cluster.start_times()
    new = int(params(cluster)["max_connections"]) + 5
    args = {
        "config": {"postgresql": {"parameters": {"max_connections": new}}},
        "pending_timeout": 15,
        "restart_timeout": 60,
    }
    pid = cluster.patroni_pid(victim)
    os.kill(pid, signal.SIGSTOP)  # its REST API hangs; its member key stays until ttl
    try:
        res = run_module(cluster, "baremetal.k8s.patroni_config", args, tmp_path)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert res.get("failed") is True
    # Its REST API hangs; once ttl passes, its member key expires too (seen on 3.0.2): both stop the restart.
    assert re.search(
        r"member %s \(http://127\.0\.0\.1:\d+\): (REST API unreachable|no longer in the cluster)" % victim, res["msg"]
    ), res["msg"]
    assert res["changed"] is True and res["restarted"] == []
    # The resumed member may have lost its member key (ttl passed): wait until it is back before naming members.
    cluster.wait_healthy()
    after = cluster.start_times()
    assert all(after[n] == before[n] for n in others), "no member restarted while the cluster was degraded"
    assert params(cluster)["max_connections"] == new  # the change itself is in the DCS
    victim_url = cluster.members()[victim]["api_url"].removesuffix("/patroni")
    deadline = time.time() + 60  # until the resumed member has picked the change up (one HA loop)
    while not cluster.get("/patroni", victim_url).get("pending_restart") and time.time() < deadline:
        time.sleep(1)
    res = run_module(cluster, "baremetal.k8s.patroni_config", args, tmp_path)
    assert res["changed"] is True and res["changes"] == {} and len(res["restarted"]) == 3
    assert set(cluster.settings("max_connections").values()) == {str(new)}


def test_replaced_puts_the_whole_document(cluster, tmp_path):
    current = cluster.config()
    wanted = json.loads(json.dumps(current))
    wanted["postgresql"]["parameters"]["work_mem"] = other(
        current["postgresql"]["parameters"]["work_mem"], "4MB", "5MB"
    )
    wanted["postgresql"]["parameters"].pop("log_min_duration_statement", None)
    wanted["check_timeline"] = True
    puts = cluster.requests("PUT /config")
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": wanted, "state": "replaced"}, tmp_path)
    assert res["changed"] is True and res["restarted"] == []
    assert cluster.config() == wanted and cluster.requests("PUT /config") == puts + 1
    wanted.pop("check_timeline")
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": wanted, "state": "replaced"}, tmp_path)
    assert res["changes"] == {"check_timeline": None}
    assert cluster.config() == wanted and cluster.requests("PUT /config") == puts + 2
    res = run_module(cluster, "baremetal.k8s.patroni_config", {"config": wanted, "state": "replaced"}, tmp_path)
    assert res["changed"] is False and cluster.requests("PUT /config") == puts + 2
