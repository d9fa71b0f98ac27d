"""MetalLB pools from inventory: problems reported at once, and the objects made from them."""

import pytest
from ansible_collections.baremetal.k8s.plugins.filter.metallb import FilterModule

F = FilterModule().filters()
SEED = {"test": {"addresses": ["10.13.13.100-10.13.13.119"]}, "prod": {"addresses": ["10.13.13.120/29"]}}


def test_the_seeds_pools_are_fine():
    assert F["metallb_pool_problems"](SEED) == []


@pytest.mark.parametrize(
    ("pools", "message"),
    [
        (
            {"a": {"addresses": ["10.0.0.0/28"]}, "b": {"addresses": ["10.0.0.8-10.0.0.20"]}},
            "pool b: 10.0.0.8-10.0.0.20 overlaps 10.0.0.0/28 of pool a",
        ),
        ({"a": {"addresses": ["10.0.0.0/28", "10.0.0.15/32"]}}, "overlaps 10.0.0.0/28 of pool a"),
        ({"a": {"addresses": ["10.0.0.1/28"]}}, "is not a CIDR or a first-last range"),
        ({"a": {"addresses": ["10.0.0.9-10.0.0.1"]}}, "must go up"),
        ({"a": {"addresses": ["10.0.0.1-fe80::1"]}}, "must go up within one IP version"),
        ({"a": {"addresses": []}}, "addresses must be a non-empty list"),
        ({"A_b": {"addresses": ["10.0.0.0/30"]}}, "the name must be a DNS label"),
        ({"a": {"addresses": ["10.0.0.0/30"], "autoassign": False}}, "unknown keys autoassign"),
        ([], "metallb_pools must be a dict"),
    ],
)
def test_problems(pools, message):
    found = F["metallb_pool_problems"](pools)
    assert any(message in p for p in found), found


def test_every_problem_at_once():
    pools = {"a": {"addresses": ["bad", "10.0.0.0/28"]}, "b": {"addresses": ["10.0.0.4/30"]}, "c": {}}
    assert len(F["metallb_pool_problems"](pools)) == 3


def test_objects():
    pools = SEED | {"quiet": {"addresses": ["10.13.14.0/28"], "l2": False, "auto_assign": False}}
    pools["prod"] = pools["prod"] | {"interfaces": ["eth1"], "avoid_buggy_ips": True}
    objs = F["metallb_pool_objects"](pools, "metallb-system", "baremetal.k8s.metallb")
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("IPAddressPool", "prod"),
        ("L2Advertisement", "prod"),
        ("IPAddressPool", "quiet"),
        ("IPAddressPool", "test"),
        ("L2Advertisement", "test"),
    ]
    prod_pool, prod_l2, quiet = objs[0], objs[1], objs[2]
    assert prod_pool["spec"] == {"addresses": ["10.13.13.120/29"], "autoAssign": True, "avoidBuggyIPs": True}
    assert prod_l2["spec"] == {"ipAddressPools": ["prod"], "interfaces": ["eth1"]}
    assert quiet["spec"] == {"addresses": ["10.13.14.0/28"], "autoAssign": False}
    assert all(o["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "baremetal.k8s.metallb"} for o in objs)
    assert all(o["metadata"]["namespace"] == "metallb-system" for o in objs)


@pytest.mark.parametrize(
    ("name", "address", "inside"),
    [
        ("test", "10.13.13.100", True),
        ("test", "10.13.13.119", True),
        ("test", "10.13.13.120", False),
        ("prod", "10.13.13.127", True),
        ("prod", "10.13.13.128", False),
        ("nope", "10.13.13.100", False),
        ("test", "not-an-ip", False),
    ],
)
def test_pool_contains(name, address, inside):
    assert F["metallb_pool_contains"](SEED, name, address) is inside
