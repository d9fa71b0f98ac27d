"""k8s_to_apply: which wanted objects an apply would change, given the live ones (server defaults and status
ignored, lists compared whole)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.k8s_objects import k8s_to_apply

POOL = {
    "apiVersion": "metallb.io/v1beta1",
    "kind": "IPAddressPool",
    "metadata": {"name": "prod", "namespace": "metallb-system", "labels": {"app.kubernetes.io/managed-by": "x"}},
    "spec": {"addresses": ["10.0.0.10-10.0.0.20"]},
}
LIVE = {
    "apiVersion": "metallb.io/v1beta1",
    "kind": "IPAddressPool",
    "metadata": {
        "name": "prod",
        "namespace": "metallb-system",
        "uid": "1",
        "labels": {"app.kubernetes.io/managed-by": "x", "other": "y"},
    },
    "spec": {"addresses": ["10.0.0.10-10.0.0.20"], "autoAssign": True, "avoidBuggyIPs": False},
    "status": {},
}


def test_an_object_the_live_one_holds_is_not_applied():
    assert k8s_to_apply([POOL], [LIVE]) == []


def test_missing_changed_or_other_version_objects_are_applied():
    other = dict(POOL, metadata=dict(POOL["metadata"], name="dev"))
    assert k8s_to_apply([POOL, other], [LIVE]) == [other]
    changed = dict(POOL, spec={"addresses": ["10.0.0.10-10.0.0.30"]})
    assert k8s_to_apply([changed], [LIVE]) == [changed]
    longer = dict(POOL, spec={"addresses": ["10.0.0.10-10.0.0.20", "10.0.1.0/24"]})
    assert k8s_to_apply([longer], [LIVE]) == [longer]
    relabelled = dict(POOL, metadata=dict(POOL["metadata"], labels={"app.kubernetes.io/managed-by": "z"}))
    assert k8s_to_apply([relabelled], [LIVE]) == [relabelled]
    assert k8s_to_apply([dict(POOL, apiVersion="metallb.io/v1beta2")], [LIVE])
    assert k8s_to_apply([POOL], [dict(LIVE, metadata=dict(LIVE["metadata"], namespace="other"))]) == [POOL]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="kind and metadata.name"):
        k8s_to_apply([{"kind": "IPAddressPool"}], [])
    with pytest.raises(AnsibleFilterError, match="lists of Kubernetes objects"):
        k8s_to_apply(POOL, [])
