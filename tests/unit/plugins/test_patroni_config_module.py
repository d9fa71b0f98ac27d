"""patroni_config's main() end to end against the simulated cluster (tests/unit/plugins/fake_patroni.py):
pending flags, waits, the timing rule, the restart plan in check mode, credentials."""

import json
import types

import pytest
from ansible.module_utils import basic
from ansible_collections.baremetal.k8s.plugins.module_utils import patroni, patroni_restart
from ansible_collections.baremetal.k8s.plugins.modules import patroni_config
from ansible_collections.baremetal.k8s.tests.unit.plugins.fake_patroni import FakeCluster


@pytest.fixture
def run(monkeypatch, run_module):
    """run(cluster, args, check=False, diff=False) -> the module's result dict (failed ones included)."""

    def runner(cluster, args, check=False, diff=False):
        clock = types.SimpleNamespace(time=cluster.time, sleep=cluster.sleep)
        for mod in (patroni, patroni_restart, patroni_config):
            monkeypatch.setattr(mod, "time", clock)
        monkeypatch.setattr(patroni_config, "PatroniClient", lambda params: cluster)
        seen = []  # module.warn() goes to the controller's display once controller code is imported
        monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning, **kw: seen.append(warning))
        result = run_module(patroni_config.main, dict(args, _ansible_check_mode=check, _ansible_diff=diff))
        return dict(result, warnings=seen)

    return runner


def max_conn(value):
    return {"config": {"postgresql": {"parameters": {"max_connections": value}}}}


def warnings(res):
    return res["warnings"]


def restarts(c):
    return [r[2] for r in c.requests if r[:2] == ("POST", "/restart")]


# --- bug 5: pending flags are polled, no fixed sleep --------------------------------------------------------


def test_restart_never_reports_the_pending_flags_once_picked_up(run):
    c = FakeCluster()
    res = run(c, dict(max_conn(110), restart="never"))
    assert res["changed"] is True and res["restarted"] == [] and restarts(c) == []
    assert res["pending_restart"] == {"pg1": True, "pg2": True, "pg3": True}


def test_reload_only_change_does_not_sleep_a_loop(run):
    c = FakeCluster()  # loop_wait 10: the old fixed wait was 12 s
    res = run(c, {"config": {"postgresql": {"parameters": {"work_mem": "8MB"}}}})
    assert res["changed"] is True and res["restarted"] == []
    assert sum(c.sleeps) < 1, c.sleeps


def test_restart_needed_change_polls_until_every_member_is_pending(run):
    c = FakeCluster()  # members pick the change up 1, 2 and 3 s after the PATCH
    patched = []
    c.hooks[("PATCH", "/config", "pg1")] = lambda: patched.append(c.now)
    first_restart = []
    c.hooks[("POST", "/restart", "pg2")] = lambda: first_restart.append(c.now)
    res = run(c, max_conn(110))
    assert res["restarted"] == ["pg2", "pg3", "pg1"]
    assert res["pending_restart"] == {"pg1": False, "pg2": False, "pg3": False}
    assert 3 <= first_restart[0] - patched[0] < 6  # polled: not loop_wait + 2 = 12 s


def test_extension_parameter_waits_one_loop_then_restarts_what_is_pending(run):
    """A parameter whose context the module cannot know (pg_stat_statements.max): one HA loop, then the flags."""
    c = FakeCluster()
    res = run(c, {"config": {"postgresql": {"parameters": {"pg_stat_statements.max": 10000}}}})
    assert res["restarted"] == ["pg2", "pg3", "pg1"]


# --- bug 4: the timing rule ---------------------------------------------------------------------------------


def broken_timing():
    c = FakeCluster()
    c.config.update(loop_wait=25, retry_timeout=10, ttl=30)  # 25 + 2 * 10 > 30 already
    return c


def test_unrelated_change_on_a_cluster_breaking_the_timing_rule_warns(run):
    c = broken_timing()
    res = run(c, {"config": {"postgresql": {"parameters": {"work_mem": "8MB"}}}})
    assert res.get("failed") is not True, res
    assert res["changed"] is True and c.config["postgresql"]["parameters"]["work_mem"] == "8MB"
    assert any("25 + 2 * 10 > 30" in w for w in warnings(res)), res.get("warnings")


@pytest.mark.parametrize("change", [{"loop_wait": 26}, {"ttl": 40}, {"retry_timeout": None, "loop_wait": 24}])
def test_change_of_a_timing_key_still_breaking_the_rule_is_refused(run, change):
    c = broken_timing()
    before = json.dumps(c.config, sort_keys=True)
    res = run(c, {"config": change})
    assert res["failed"] is True and "loop_wait + 2 * retry_timeout <= ttl" in res["msg"]
    assert json.dumps(c.config, sort_keys=True) == before


def test_timing_fix_is_accepted(run):
    c = broken_timing()
    res = run(c, {"config": {"ttl": 50}})
    assert res["changed"] is True and c.config["ttl"] == 50 and not warnings(res)


# --- one restart plan for check mode and the real run ------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        max_conn(110),
        max_conn(90),
        dict(max_conn(110), restart="always"),
        dict(max_conn(110), primary_restart_method="switchover"),
        {"config": {"postgresql": {"parameters": {"work_mem": "8MB"}}}, "restart": "always"},
    ],
    ids=["increase", "decrease", "always", "switchover", "reload-always"],
)
def test_check_mode_predicts_what_the_run_does(run, args):
    checked = run(FakeCluster(), args, check=True)
    done = run(FakeCluster(), args)
    for key in ("changed", "changes", "restarted", "restart_order", "pending_restart", "switchover"):
        assert checked.get(key) == done.get(key), key


def test_check_mode_sends_no_change(run):
    c = FakeCluster()
    run(c, max_conn(110), check=True)
    assert [r for r in c.requests if r[0] != "GET" and r[3]] == []  # at most the empty credentials probe


# --- credentials ---------------------------------------------------------------------------------------------


def test_wrong_password_fails_even_with_nothing_to_change(run):
    c = FakeCluster()
    c.auth_ok = False
    res = run(c, dict(max_conn(100), username="patroni", password="not-it"))  # 100 is the current value
    assert res["failed"] is True and "401" in res["msg"] and "wrong or missing username/password" in res["msg"]


def test_credentials_checked_reported(run):
    c = FakeCluster()
    assert run(c, dict(max_conn(100), username="patroni", password="pw"))["credentials_checked"] is True
    assert run(c, max_conn(100))["credentials_checked"] is False
