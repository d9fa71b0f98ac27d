"""patroni_config on a standby cluster: its leader (role standby_leader) restarts like a primary would.

tests/lab/patroni/up.sh runs lab3s, a Patroni 3.0.2 standby cluster (bootstrap.dcs.standby_cluster) that
replicates from the lab3 cluster; its members are in patroni.env as PATRONI_STANDBY_*. A restart-needed
change of lab3s's dynamic configuration must restart the replica and then the standby_leader in place,
finish (not time out waiting for a "leader"), leave the new value live on every member and nothing pending,
and leave lab3s a standby cluster that still follows lab3.
"""

import json
import os
import subprocess
import time
import urllib.request
import uuid

import labenv
import psycopg2
import psycopg2.errors
import pytest

REPO = labenv.REPO
ANSIBLE_PLAYBOOK = REPO / ".venv" / "bin" / "ansible-playbook"
LEADS = ("leader", "standby_leader")


class Standby:
    """The lab's standby cluster (lab3s) and the cluster it follows (lab3)."""

    def __init__(self, env, secrets):
        self.api_url = env["PATRONI_STANDBY_API_URL"]
        self.pg_ports = [int(p) for p in env["PATRONI_STANDBY_PG_PORTS"].split(",")]
        self.scope = env["PATRONI_STANDBY_SCOPE"]
        self.source_api_url = env["PATRONI_API_URL"]
        self.secrets = secrets

    def get(self, path, url=None):
        with urllib.request.urlopen((url or self.api_url) + path, timeout=5) as resp:  # noqa: S310 (loopback)
            return json.load(resp)

    def members(self, url=None):
        return {m["name"]: m for m in self.get("/cluster", url)["members"]}

    def connect(self, port):
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=port,
            user=self.secrets["PATRONI_PG_SUPERUSER"],
            password=self.secrets["PATRONI_PG_PASSWORD"],
            dbname="postgres",
            connect_timeout=5,
        )
        conn.autocommit = True
        return conn

    def sql(self, port, query, args=None):
        conn = self.connect(port)
        try:
            with conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchone()[0] if cur.description else None
        finally:
            conn.close()

    def by_port(self, query):
        """member name -> the query's value on that member, from PostgreSQL itself."""
        names = {m["port"]: n for n, m in self.members().items()}
        return {names[p]: self.sql(p, query) for p in self.pg_ports}

    def wait_healthy(self, timeout=120):
        """Members running, one standby_leader, no pending restart; returns the members."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.members()
                roles = [m["role"] for m in last.values()]
                if (
                    len(last) == len(self.pg_ports)
                    and roles.count("standby_leader") == 1
                    and all(m["state"] in ("running", "streaming") for m in last.values())
                    and not any(m.get("pending_restart") for m in last.values())
                ):
                    return last
            except OSError as exc:
                last = exc
            time.sleep(0.5)
        raise AssertionError("standby cluster %s not healthy: %s" % (self.scope, last))


@pytest.fixture(scope="module")
def standby():
    env = labenv.require("patroni")
    if "PATRONI_STANDBY_API_URL" not in env:
        pytest.fail("the Patroni lab runs no standby cluster (LAB_PATRONI_STANDBY=0?): bring it up with the default")
    c = Standby(env, labenv.read_env(env["PATRONI_SECRETS_FILE"]))
    c.wait_healthy()
    return c


def run_config(cluster, args, tmp_path):
    """patroni_config through ansible-playbook from the checkout; returns the task result."""
    task = {"name": "under test", "baremetal.k8s.patroni_config": dict({"api_url": cluster.api_url}, **args)}
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [task],
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        }
    ]
    book = tmp_path / "play.yml"
    book.write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="false")
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    env["PATRONI_RESTAPI_USERNAME"] = cluster.secrets["PATRONI_REST_USERNAME"]
    env["PATRONI_RESTAPI_PASSWORD"] = cluster.secrets["PATRONI_REST_PASSWORD"]
    cmd = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(book)]
    proc = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert "{" in proc.stdout, proc.stderr[-3000:]
    out = json.loads(proc.stdout[proc.stdout.index("{") :])
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_standby_cluster_follows_lab3(standby):
    """The lab part itself: lab3s is a standby cluster whose leader replays what lab3's primary commits."""
    members = standby.wait_healthy()
    leader = next(n for n, m in members.items() if m["role"] == "standby_leader")
    assert standby.get("/config").get("standby_cluster", {}).get("host") == "127.0.0.1"
    assert set(standby.by_port("select pg_is_in_recovery()").values()) == {True}
    source = standby.members(standby.source_api_url)
    source_primary = next(m for m in source.values() if m["role"] in LEADS)
    marker = str(uuid.uuid4())
    standby.sql(source_primary["port"], "create table if not exists standby_probe (marker text primary key)")
    standby.sql(source_primary["port"], "insert into standby_probe values (%s)", (marker,))
    port = members[leader]["port"]
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and not seen:
        try:
            seen = standby.sql(port, "select count(*) from standby_probe where marker = %s", (marker,))
        except psycopg2.errors.UndefinedTable:
            seen = 0
        if not seen:
            time.sleep(0.5)
    assert seen == 1, "the standby_leader %s did not replay lab3's insert within 60 s" % leader


def test_restart_needed_change_restarts_the_standby_leader(standby, tmp_path):
    members = standby.wait_healthy()
    leader = next(n for n, m in members.items() if m["role"] == "standby_leader")
    replicas = sorted(n for n in members if n != leader)
    current = str(standby.get("/config")["postgresql"]["parameters"].get("shared_buffers", "32MB"))
    new = "48MB" if current != "48MB" else "40MB"
    before = standby.by_port("select pg_postmaster_start_time()")
    res = run_config(
        standby,
        {
            "config": {"postgresql": {"parameters": {"shared_buffers": new}}},
            "restart": "pending",
            "primary_restart_method": "restart",
            "restart_timeout": 90,
        },
        tmp_path,
    )
    assert not res.get("failed"), res.get("msg", res)
    assert res["changed"] is True
    assert res["changes"] == {"postgresql": {"parameters": {"shared_buffers": new}}}
    assert res["restarted"] == replicas + [leader], "replica(s) first, then the standby_leader in place"
    assert res["pending_restart"] == {n: False for n in members}
    after = standby.by_port("select pg_postmaster_start_time()")
    assert all(after[n] > before[n] for n in before), "every member's postmaster restarted"
    assert set(standby.by_port("show shared_buffers").values()) == {new}, "the new value is live everywhere"
    members = standby.wait_healthy()
    assert members[leader]["role"] == "standby_leader", "restarted in place: still the standby_leader"
    assert not any(m.get("pending_restart") for m in standby.members().values())
