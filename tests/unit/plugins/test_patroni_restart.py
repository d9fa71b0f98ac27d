"""RollingRestart against a fake REST API: which members restart, in which order, with which role filter."""

import types

import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils import patroni, patroni_restart
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import PatroniClient, PatroniError
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_restart import RollingRestart


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    """Waits advance a fake clock instead of sleeping."""
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    clock = types.SimpleNamespace(time=lambda: now[0], sleep=sleep)
    for mod in (patroni, patroni_restart):
        monkeypatch.setattr(mod, "time", clock)


class FakeApi:
    """Three members; POST /restart clears pending_restart, POST /switchover swaps the leader."""

    def __init__(self, pending=("pg1", "pg2", "pg3"), version="3.0.2", down=()):
        self.version = version
        self.members = {
            n: {
                "name": n,
                "role": "leader" if n == "pg1" else "replica",
                "state": "running",
                "api_url": "http://m/%s/patroni" % n,
                "lag": None if n == "pg1" else 0,
            }
            for n in ("pg1", "pg2", "pg3")
        }
        self.pending = set(pending)
        self.down = set(down)
        self.calls = []

    def call(self, method, path, body=None, *, base=None, timeout=None, who=None, ok=(200,)):
        name = base.rsplit("/", 1)[-1] if base else None
        if method == "GET" and path == "/cluster":
            return {"members": list(self.members.values())}
        if name in self.down:
            raise PatroniError("%s unreachable" % name)
        if method == "GET" and path == "/patroni":
            role = self.members[name]["role"]
            role = "replica" if role != "leader" else ("primary" if self.version >= "4" else "master")
            return {
                "xlog": {"location": 100} if role != "replica" else {"replayed_location": 100},
                "state": "running",
                "role": role,
                "pending_restart": name in self.pending,
                "patroni": {"version": self.version},
            }
        self.calls.append((method, path, name, body))
        if path == "/restart":
            self.pending.discard(name)
        elif path == "/switchover":
            self.members[body["leader"]].update(role="replica", lag=0)
            self.members[body["candidate"]].update(role="leader", lag=None)
            self.pending.discard(body["leader"])  # demotion restarts Postgres
        return "ok"


def run(api, mode="pending", order="replicas_first", method="restart"):
    warnings = []
    rr = RollingRestart(api, api.version, 5, warnings.append)
    restarted = rr.run(rr.members(), mode, order, method)
    return rr, restarted, warnings


def test_replicas_first_only_pending_with_3x_role_names():
    api = FakeApi(pending=("pg1", "pg3"))
    _unused, restarted, _unused = run(api)
    assert restarted == ["pg3", "pg1"]
    assert [(c[2], c[3]) for c in api.calls] == [
        ("pg3", {"role": "replica", "restart_pending": True}),
        ("pg1", {"role": "master", "restart_pending": True}),
    ]


def test_primary_first_uses_4x_role_name():
    api = FakeApi(version="4.1.5")
    _unused, restarted, _unused = run(api, order="primary_first")
    assert restarted == ["pg1", "pg2", "pg3"]
    assert api.calls[0][3] == {"role": "primary", "restart_pending": True}


def test_nothing_pending_means_no_call():
    api = FakeApi(pending=())
    assert run(api)[1] == [] and api.calls == []


def test_always_restarts_everyone_without_pending_filter():
    api = FakeApi(pending=())
    assert run(api, mode="always")[1] == ["pg2", "pg3", "pg1"]
    assert all("restart_pending" not in c[3] for c in api.calls)


def test_switchover_moves_the_leader_to_a_restarted_replica():
    api = FakeApi()
    rr, restarted, _unused = run(api, method="switchover")
    assert [c[1] for c in api.calls] == ["/restart", "/restart", "/switchover"]
    assert rr.switchover == {"from": "pg1", "to": "pg2"}
    assert restarted == ["pg2", "pg3", "pg1"]


def test_switchover_falls_back_for_primary_first():
    api = FakeApi()
    _unused, restarted, warnings = run(api, order="primary_first", method="switchover")
    assert restarted[0] == "pg1" and "/switchover" not in [c[1] for c in api.calls]
    assert warnings


def test_degraded_cluster_refuses_before_any_restart():
    api = FakeApi(down=("pg3",))
    with pytest.raises(PatroniError, match="pg3"):
        run(api)
    assert api.calls == []


def test_role_name_follows_each_members_own_version():
    api = FakeApi(pending=("pg1",), version="3.0.2")
    rr = RollingRestart(api, "4.1.5", 5, print)  # the api_url member already runs 4.x (mid-upgrade)
    rr.run(rr.members(), "pending", "replicas_first", "restart")
    assert api.calls[0][3]["role"] == "master"


def test_client_errors_are_clear():
    with pytest.raises(PatroniError, match="TLS files"):
        PatroniClient({"api_url": "https://127.0.0.1:1", "ca_path": "/nonexistent/ca.pem"})
    client = PatroniClient({"api_url": "http://127.0.0.1:1", "timeout": 2})
    with pytest.raises(PatroniError, match=r"GET /config on http://127.0.0.1:1: unreachable"):
        client.call("GET", "/config")
