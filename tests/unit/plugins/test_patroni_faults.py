"""Rolling restarts against the simulated cluster: a member missing polls, synchronous mode, standby clusters."""

import types

import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils import patroni, patroni_restart
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import PatroniError
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_logic import synchronous_mode
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_restart import RollingRestart
from ansible_collections.baremetal.k8s.tests.unit.plugins.fake_patroni import FakeCluster


@pytest.fixture
def fake(monkeypatch):
    """A FakeCluster whose fake clock drives the module_utils' time.time/time.sleep."""
    holder = {}

    def make(**kw):
        cluster = FakeCluster(**kw)
        clock = types.SimpleNamespace(time=cluster.time, sleep=cluster.sleep)
        for mod in (patroni, patroni_restart):
            monkeypatch.setattr(mod, "time", clock)
        holder["c"] = cluster
        return cluster

    return make


def pend_all(c, max_connections=110):
    """A restart-only change every member has picked up (all pending)."""
    c.config["postgresql"]["parameters"]["max_connections"] = max_connections
    for n in c.names:
        c.applied[n] = {"postgresql": {"parameters": {"max_connections": max_connections}}}


def restarts(c):
    return [r[2] for r in c.requests if r[0] == "POST" and r[1] == "/restart"]


def rolling(c, order="replicas_first", method="restart", mode="pending", timeout=30):
    warnings = []
    rr = RollingRestart(c, c.version, timeout, warnings.append, 20, sync_mode=synchronous_mode(c.config))
    rr.run(rr.members(), mode, order, method)
    return rr, warnings


# --- bug 1: a member missing one poll ------------------------------------------------------------------------


def test_replica_missing_one_poll_while_replaying_is_waited_for(fake):
    """primary_first: after the primary restarts, pg2 misses a poll while the module waits for it to replay."""
    c = fake()
    pend_all(c, 90)
    c.hooks[("POST", "/restart", "pg1")] = lambda: c.lose("pg2", after=3)
    rr, _unused = rolling(c, order="primary_first")
    assert rr.restarted == ["pg1", "pg2", "pg3"]
    assert not any(c.pending(n) for n in c.names)


def test_leader_missing_one_poll_after_its_restart_is_waited_for(fake):
    c = fake()
    pend_all(c, 90)
    c.hooks[("POST", "/restart", "pg1")] = lambda: c.lose("pg1", after=2, polls=2)
    rr, _unused = rolling(c, order="primary_first")
    assert rr.restarted == ["pg1", "pg2", "pg3"]


def test_replica_missing_one_poll_between_restarts_is_waited_for(fake):
    c = fake()
    pend_all(c)
    c.hooks[("POST", "/restart", "pg2")] = lambda: c.lose("pg3", after=2)
    rr, _unused = rolling(c)
    assert rr.restarted == ["pg2", "pg3", "pg1"]


def test_member_lost_mid_run_fails_naming_it_and_restarts_nothing_more(fake):
    """pg3 goes away after pg2's restart: no traceback, a message naming pg3, and the primary not restarted
    (at most one member is ever down: the one being restarted)."""
    c = fake()
    pend_all(c)
    c.hooks[("POST", "/restart", "pg2")] = lambda: c.down.add("pg3")
    with pytest.raises(PatroniError, match=r"member pg3 \(http://m/pg3\)"):
        rolling(c, timeout=10)
    assert restarts(c) == ["pg2"]


def test_replica_lost_before_the_primary_restart_stops_the_run(fake):
    """pg2 (already restarted) goes away before the primary's turn: the primary is not restarted."""
    c = fake()
    pend_all(c)
    c.hooks[("POST", "/restart", "pg3")] = lambda: c.down.add("pg2")
    with pytest.raises(PatroniError, match=r"member pg2 \(http://m/pg2\)"):
        rolling(c, timeout=10)
    assert restarts(c) == ["pg2", "pg3"]


# --- bug 2: switchover candidate in synchronous mode ---------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "mode", "role"), [("3.0.2", True, "sync_standby"), ("4.1.5", "quorum", "quorum_standby")]
)
def test_switchover_goes_to_the_synchronous_standby(fake, version, mode, role):
    c = fake(version=version)
    c.config["synchronous_mode"] = mode
    c.sync = {"pg3"}  # pg2 and pg3 both lag 0: without sync mode pg2 (name order) would be chosen
    pend_all(c)
    assert {m["name"]: m["role"] for m in c._GET_cluster("pg1", None)[1]["members"]}["pg3"] == role
    rr, _unused = rolling(c, method="switchover")
    assert rr.switchover == {"from": "pg1", "to": "pg3"}
    assert c.leader == "pg3"


def test_switchover_waits_for_a_synchronous_standby_to_be_named_again(fake):
    """Patroni drops the sync standby while it restarts and names one again a loop later: wait, then switch."""
    c = fake()
    c.config["synchronous_mode"] = True
    c.sync = {"pg3"}
    pend_all(c)

    def after_calls(n, action):
        """Run action after n more GET /cluster requests."""
        c.hooks[("GET", "/cluster", "pg1")] = action if n <= 1 else (lambda: after_calls(n - 1, action))

    def drop():
        c.sync.clear()
        after_calls(6, lambda: c.sync.add("pg2"))  # a few polls after the module first looks for a candidate

    c.hooks[("POST", "/restart", "pg3")] = drop
    rr, warnings = rolling(c, method="switchover")
    assert rr.switchover == {"from": "pg1", "to": "pg2"} and not warnings


# --- bug 3: standby cluster ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.0.2", "4.1.5"])
def test_standby_leader_restart_completes(fake, version):
    c = fake(version=version, standby=True)
    pend_all(c)
    rr, _unused = rolling(c)
    assert rr.restarted == ["pg2", "pg3", "pg1"]
    assert not any(c.pending(n) for n in c.names)
    body = [r[3] for r in c.requests if r[:3] == ("POST", "/restart", "pg1")][0]
    assert body.get("role") == ("standby_leader" if version >= "4" else None)


def test_member_whose_key_expired_mid_run_stops_the_run(fake):
    """A member that vanishes from GET /cluster (its key expired) is not a healthy cluster with one less member."""
    c = fake()
    pend_all(c)
    c.hooks[("POST", "/restart", "pg2")] = lambda: c.names.remove("pg3")
    with pytest.raises(PatroniError, match=r"member pg3 \(http://m/pg3\): no longer in the cluster"):
        rolling(c, timeout=10)
    assert restarts(c) == ["pg2"]
