"""node_labels' patch logic: inventory labels and taints onto a Node, owning only what it set."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.node_labels import FilterModule
from ansible_collections.baremetal.k8s.plugins.module_utils.node_labels import LABELS_ANNOTATION, TAINTS_ANNOTATION

F = FilterModule().filters()
CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(labels=None, taints=None, managed_labels=None, managed_taints=None):
    annotations = {}
    if managed_labels is not None:
        annotations[LABELS_ANNOTATION] = json.dumps(managed_labels)
    if managed_taints is not None:
        annotations[TAINTS_ANNOTATION] = json.dumps(managed_taints)
    return {
        "metadata": {
            "name": "n",
            "labels": {"kubernetes.io/hostname": "n", **(labels or {})},
            "annotations": annotations,
        },
        "spec": {"taints": taints} if taints is not None else {},
    }


def apply(obj, patch):
    """A JSON merge patch (RFC 7386), enough for these objects."""
    out = json.loads(json.dumps(obj))

    def merge(target, src):
        for key, value in src.items():
            if value is None:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value

    merge(out, patch)
    return out


def test_new_labels_and_taints_are_added_and_recorded():
    taint = {"key": "dedicated", "value": "db", "effect": "NoExecute"}
    patch = F["node_patch"](node(taints=[CP_TAINT]), {"node": "devstats-app"}, [taint])
    assert patch["metadata"]["labels"] == {"node": "devstats-app"}
    assert json.loads(patch["metadata"]["annotations"][LABELS_ANNOTATION]) == ["node"]
    assert json.loads(patch["metadata"]["annotations"][TAINTS_ANNOTATION]) == ["dedicated:NoExecute"]
    assert patch["spec"]["taints"] == [CP_TAINT, taint]  # kubeadm's taint kept


def test_converged_node_needs_no_patch():
    labels, taints = {"node": "devstats-app", "empty": ""}, [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]
    first = node(taints=[CP_TAINT])
    converged = apply(first, F["node_patch"](first, labels, taints))
    assert F["node_patch"](converged, labels, taints) == {}


def test_dropped_label_stays_without_prune_and_goes_with_it():
    have = node(labels={"node": "devstats-app", "node2": "devstats-db"}, managed_labels=["node", "node2"])
    assert F["node_patch"](have, {"node": "devstats-app"}, []) == {}
    patch = F["node_patch"](have, {"node": "devstats-app"}, [], prune=True)
    assert patch["metadata"]["labels"] == {"node2": None}
    after = apply(have, patch)
    assert after["metadata"]["labels"] == {"kubernetes.io/hostname": "n", "node": "devstats-app"}
    assert F["node_patch"](after, {"node": "devstats-app"}, [], prune=True) == {}


def test_labels_the_role_never_set_are_never_removed():
    have = node(labels={"team": "theirs"}, taints=[CP_TAINT])
    assert F["node_patch"](have, {}, [], prune=True) == {}


def test_changed_value_is_patched():
    have = node(labels={"node": "old"}, managed_labels=["node"])
    assert F["node_patch"](have, {"node": "new"}, [])["metadata"]["labels"] == {"node": "new"}


def test_dropped_taint_is_removed_only_with_prune_and_foreign_taints_stay():
    mine = {"key": "dedicated", "value": "db", "effect": "NoExecute"}
    have = node(taints=[CP_TAINT, mine], managed_taints=["dedicated:NoExecute"])
    assert F["node_patch"](have, {}, []) == {}
    patch = F["node_patch"](have, {}, [], prune=True)
    assert patch["spec"]["taints"] == [CP_TAINT]
    assert patch["metadata"]["annotations"] == {TAINTS_ANNOTATION: None}


def test_last_taint_removed_clears_the_list():
    mine = {"key": "dedicated", "effect": "NoSchedule"}
    have = node(taints=[mine], managed_taints=["dedicated:NoSchedule"])
    assert F["node_patch"](have, {}, [], prune=True)["spec"] == {"taints": None}


def test_inventory_taint_replaces_a_taint_with_the_same_key_and_effect():
    have = node(taints=[{"key": "dedicated", "value": "old", "effect": "NoSchedule"}])
    patch = F["node_patch"](have, {}, [{"key": "dedicated", "value": "new", "effect": "NoSchedule"}])
    assert patch["spec"]["taints"] == [{"key": "dedicated", "value": "new", "effect": "NoSchedule"}]


@pytest.mark.parametrize(
    ("labels", "taints", "message"),
    [
        ({"bad key": "x"}, [], "the name must be"),
        ({"Example.com/x": "y"}, [], "prefix must be a DNS subdomain"),
        ({"a/b/c": "y"}, [], "more than one"),
        ({"ok": "-bad"}, [], "a value must be"),
        ({"ok": "x" * 64}, [], "a value must be"),
        ({}, [{"key": "k", "effect": "Sometimes"}], "effect must be one of"),
        ({}, [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule"}], "listed twice"),
        ({}, [{"effect": "NoSchedule"}], "must have key"),
        ({}, [{"key": "k", "effect": "NoSchedule", "operator": "Exists"}], "must have key"),
        ([], [], "node_labels must be a dict"),
        ({}, {}, "node_taints must be a list"),
    ],
)
def test_bad_input_is_reported(labels, taints, message):
    problems = F["node_labels_problems"](labels, taints)
    assert any(message in p for p in problems), problems
    with pytest.raises(AnsibleFilterError, match="node_patch"):
        F["node_patch"]({}, labels, taints)


def test_good_input_has_no_problems():
    assert F["node_labels_problems"]({"node": "devstats-app", "example.com/tier": "", "a_b.c-d": "1"}, [CP_TAINT]) == []
