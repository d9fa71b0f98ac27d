"""Pure logic of patroni_config: Patroni's merge, minimal patches, diffs, timing rule, restart order."""

import copy
import random

import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils import patroni_logic as logic

BASE = {
    "ttl": 30,
    "loop_wait": 10,
    "retry_timeout": 10,
    "postgresql": {
        "use_pg_rewind": True,
        "parameters": {"max_connections": 100, "shared_buffers": "32MB", "work_mem": "4MB", "hot_standby": "on"},
    },
}


def test_merge_null_deletes_dicts_merge_scalars_replace():
    merged, changed = logic.patroni_merge(
        BASE, {"loop_wait": 5, "postgresql": {"parameters": {"work_mem": None, "max_connections": 200}}}
    )
    assert changed
    assert merged["loop_wait"] == 5
    assert "work_mem" not in merged["postgresql"]["parameters"]
    assert merged["postgresql"]["parameters"]["max_connections"] == 200
    assert merged["postgresql"]["parameters"]["shared_buffers"] == "32MB"
    assert merged["postgresql"]["use_pg_rewind"] is True
    assert BASE["postgresql"]["parameters"]["work_mem"] == "4MB"  # input untouched


def test_merge_compares_string_forms_like_patroni():
    assert logic.patroni_merge(BASE, {"loop_wait": "10", "postgresql": {"parameters": {"max_connections": "100"}}}) == (
        BASE,
        False,
    )
    merged, changed = logic.patroni_merge(BASE, {"postgresql": {"use_pg_rewind": "true"}})
    assert changed and merged["postgresql"]["use_pg_rewind"] == "true"  # str(True) is "True"


def test_merge_deleting_a_missing_key_is_no_change():
    assert logic.patroni_merge(BASE, {"nonexistent": None, "postgresql": {"parameters": {"x": None}}})[1] is False


def test_merge_drops_nulls_inside_new_subtrees():
    merged, changed = logic.patroni_merge({}, {"postgresql": {"parameters": {"a": 1, "b": None}}})
    assert changed and merged == {"postgresql": {"parameters": {"a": 1}}}


def test_merge_type_changes_replace():
    merged, _unused = logic.patroni_merge({"a": {"b": 1}, "c": 2}, {"a": 3, "c": {"d": 4}})
    assert merged == {"a": 3, "c": {"d": 4}}


def test_minimal_patch_only_changed_subtree():
    desired, _unused = logic.patroni_merge(
        BASE, {"loop_wait": "10", "postgresql": {"parameters": {"shared_buffers": "64MB", "work_mem": "4MB"}}}
    )
    assert logic.minimal_patch(BASE, desired) == {"postgresql": {"parameters": {"shared_buffers": "64MB"}}}
    assert logic.minimal_patch(BASE, copy.deepcopy(BASE)) == {}


def test_minimal_patch_deletion_and_replacement():
    new = copy.deepcopy(BASE)
    del new["postgresql"]["parameters"]["work_mem"]
    new["synchronous_mode"] = True
    assert logic.minimal_patch(BASE, new) == {
        "synchronous_mode": True,
        "postgresql": {"parameters": {"work_mem": None}},
    }


def _random_tree(rng, depth=0):
    tree = {}
    for _unused in range(rng.randint(0, 4)):
        key = rng.choice("abcdef")
        if depth < 2 and rng.random() < 0.3:
            tree[key] = _random_tree(rng, depth + 1)
        else:
            tree[key] = rng.choice([1, "1", 2, "x", True, "True", None, [1, 2]])
    return tree


@pytest.mark.parametrize("seed", range(300))
def test_minimal_patch_reproduces_the_merge(seed):
    """For any config and request: merging the minimal patch gives what merging the request gives."""
    rng = random.Random(seed)
    old = logic.strip_nulls(_random_tree(rng))
    request = _random_tree(rng)
    desired, changed = logic.patroni_merge(old, request)
    patch = logic.minimal_patch(old, desired)
    again, patch_changed = logic.patroni_merge(old, patch)
    assert logic.minimal_patch(again, desired) == {}
    assert bool(patch) == changed == patch_changed
    assert logic.minimal_patch(desired, logic.patroni_merge(desired, request)[0]) == {}  # idempotent


def test_diff_holds_only_changed_keys():
    patch = {"postgresql": {"parameters": {"work_mem": None, "shared_buffers": "1GB"}}}
    desired, _unused = logic.patroni_merge(BASE, patch)
    diff = logic.diff_of(BASE, desired, logic.minimal_patch(BASE, desired))
    assert diff == {
        "before": {"postgresql": {"parameters": {"shared_buffers": "32MB", "work_mem": "4MB"}}},
        "after": {"postgresql": {"parameters": {"shared_buffers": "1GB"}}},
    }


@pytest.mark.parametrize(
    ("config", "ok"),
    [
        ({}, True),
        ({"loop_wait": "60"}, False),  # the seed's tweak with the default ttl 30
        ({"loop_wait": 10, "retry_timeout": 10, "ttl": 30}, True),
        ({"loop_wait": 11, "retry_timeout": 10, "ttl": 30}, False),
        ({"loop_wait": "60", "ttl": "120", "retry_timeout": "30"}, True),
        ({"ttl": "abc"}, False),
    ],
)
def test_timing_rule(config, ok):
    assert (logic.timing_error(config) is None) is ok


def test_timing_message_names_the_rule():
    assert "60 + 2 * 10 > 30" in logic.timing_error({"loop_wait": "60"})


def _params(**kw):
    return {"postgresql": {"parameters": kw}}


@pytest.mark.parametrize(
    ("old", "new", "order"),
    [
        (_params(max_connections=100), _params(max_connections=200), "replicas_first"),
        (_params(max_connections=100), _params(max_connections="50"), "primary_first"),
        (
            _params(max_wal_senders=10, max_connections=100),
            _params(max_wal_senders=5, max_connections=200),
            "primary_first",
        ),
        (_params(shared_buffers="32MB"), _params(shared_buffers="16MB"), "replicas_first"),
        (_params(max_worker_processes=8), _params(max_worker_processes="8"), "replicas_first"),
        (_params(), _params(max_locks_per_transaction=128), "replicas_first"),
    ],
)
def test_restart_order(old, new, order):
    assert logic.restart_order(old, new)[0] == order


def test_restart_order_reason_names_parameters():
    assert logic.restart_order(_params(max_connections=100), _params(max_connections=50)) == (
        "primary_first",
        "decrease of max_connections",
    )


def test_needs_restart_only_postmaster_parameters():
    old = _params(shared_buffers="32MB", work_mem="4MB", max_connections=100, wal_level="replica")
    new = _params(shared_buffers="64MB", work_mem="8MB", max_connections="100", shared_preload_libraries="x")
    assert logic.needs_restart(old, new) == ["shared_buffers", "shared_preload_libraries", "wal_level"]
    assert logic.needs_restart(old, old) == []


MEMBERS = [
    {"name": "pg2", "role": "replica", "state": "running", "lag": 0},
    {"name": "pg1", "role": "leader", "state": "running"},
    {"name": "pg3", "role": "sync_standby", "state": "streaming", "lag": 10},
]


def test_order_members():
    assert [m["name"] for m in logic.order_members(MEMBERS, "replicas_first")] == ["pg2", "pg3", "pg1"]
    assert [m["name"] for m in logic.order_members(MEMBERS, "primary_first")] == ["pg1", "pg2", "pg3"]


@pytest.mark.parametrize(
    ("role", "version", "expected"),
    [
        ("leader", "3.0.2", "master"),
        ("leader", "3.3.11", "master"),
        ("leader", "4.0.0", "primary"),
        ("leader", "4.1.5", "primary"),
        ("replica", "3.0.2", "replica"),
        ("sync_standby", "4.1.5", "replica"),
        ("standby_leader", "4.1.5", "standby_leader"),
        ("standby_leader", "3.0.2", None),
        ("quorum_standby", "4.1.5", "replica"),
    ],
)
def test_restart_role_follows_patroni_major(role, version, expected):
    assert logic.restart_role(role, version) == expected


def test_pick_candidate_prefers_healthy_low_lag():
    members = [dict(m, role="replica") for m in copy.deepcopy(MEMBERS)]
    assert logic.pick_candidate(members, "pg1") == "pg2"
    members[0]["pending_restart"] = True
    assert logic.pick_candidate(members, "pg1") == "pg3"
    members[2]["tags"] = {"nofailover": True}
    assert logic.pick_candidate(members, "pg1") is None


def test_pick_candidate_only_synchronous_standbys_when_there_are_any():
    """Patroni refuses (412) a switchover to a replica outside the synchronous standbys."""
    members = copy.deepcopy(MEMBERS)  # pg2 replica lag 0, pg3 sync_standby lag 10
    assert logic.pick_candidate(members, "pg1") == "pg3"
    quorum = [dict(m, role="quorum_standby") if m["name"] == "pg3" else m for m in members]
    assert logic.pick_candidate(quorum, "pg1") == "pg3"
    members[2]["pending_restart"] = True  # the only synchronous standby is not fit: no candidate
    assert logic.pick_candidate(members, "pg1") is None
    plain = [dict(m, role="replica") for m in MEMBERS]
    assert logic.pick_candidate(plain, "pg1", sync_mode="on") is None  # sync on but no sync_standby yet
    assert logic.pick_candidate(plain, "pg1", sync_mode="quorum") == "pg2"


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        ({}, None),
        ({"synchronous_mode": True}, "on"),
        ({"synchronous_mode": "quorum"}, "quorum"),
        ({"synchronous_mode": False}, None),
        ({"synchronous_mode": "on"}, "on"),
    ],
)
def test_synchronous_mode(config, mode):
    assert logic.synchronous_mode(config) == mode


@pytest.mark.parametrize(
    ("current", "patch", "verdict"),
    [
        ({}, {"loop_wait": 5}, None),
        ({"loop_wait": 25}, {"postgresql": {"parameters": {"work_mem": "8MB"}}}, "warn"),
        ({"loop_wait": 25}, {"loop_wait": 26}, "refuse"),
        ({"loop_wait": 25}, {"ttl": 40}, "refuse"),  # touches a timing key, still broken
        ({"loop_wait": 25}, {"ttl": 50}, None),
        ({}, {"loop_wait": "60"}, "refuse"),
        ({"ttl": "abc"}, {"check_timeline": True}, "warn"),
    ],
)
def test_timing_check(current, patch, verdict):
    desired = logic.patroni_merge(current, patch)[0]
    assert logic.timing_check(current, desired, logic.minimal_patch(current, desired))[0] == verdict


def _ms(*specs):
    return [dict(name=n, role=r, pending_restart=p) for n, r, p in specs]


@pytest.mark.parametrize(
    ("mode", "order", "method", "expect", "steps"),
    [
        ("never", "replicas_first", "restart", True, []),
        ("pending", "replicas_first", "restart", False, [("pg3", "restart"), ("pg1", "restart")]),
        ("pending", "replicas_first", "restart", True, [("pg2", "restart"), ("pg3", "restart"), ("pg1", "restart")]),
        ("always", "primary_first", "restart", False, [("pg1", "restart"), ("pg2", "restart"), ("pg3", "restart")]),
        ("pending", "replicas_first", "switchover", False, [("pg3", "restart"), ("pg1", "switchover")]),
        ("pending", "primary_first", "switchover", False, [("pg1", "restart"), ("pg3", "restart")]),
    ],
)
def test_restart_plan(mode, order, method, expect, steps):
    members = _ms(("pg1", "leader", True), ("pg2", "replica", False), ("pg3", "sync_standby", True))
    plan = logic.restart_plan(members, mode, order, method, expect)
    assert [(s["name"], s["action"]) for s in plan] == steps


def test_standby_leader_is_never_switched_over():
    members = _ms(("pg1", "standby_leader", True), ("pg2", "replica", True))
    plan = logic.restart_plan(members, "pending", "replicas_first", "switchover")
    assert [(s["name"], s["action"]) for s in plan] == [("pg2", "restart"), ("pg1", "restart")]


def test_unknown_context_parameters():
    old, new = _params(work_mem="4MB", **{"pg_stat_statements.max": 5000}), _params(work_mem="8MB")
    assert logic.unknown_context(old, new) == ["pg_stat_statements.max"]
    assert logic.unknown_context(old, old) == []
