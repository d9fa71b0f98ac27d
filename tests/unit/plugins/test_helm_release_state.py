"""helm_release_state's verdict: when a deployed release needs no helm run, and the reason given otherwise."""

import pytest
from ansible_collections.baremetal.k8s.plugins.modules.helm_release_state import verdict

DEPLOYED = {"name": "metallb", "status": "deployed", "chart": "metallb-0.15.2"}
VALUES = {"speaker": {"frr": {"enabled": False}}, "replicas": 2}


def test_deployed_with_the_version_and_values_is_up_to_date():
    assert verdict(DEPLOYED, dict(VALUES), "0.15.2", VALUES) == (True, "")


def test_no_version_pinned_accepts_any_chart_version():
    assert verdict(DEPLOYED, VALUES, "", VALUES) == (True, "")


def test_no_values_on_either_side():
    assert verdict(DEPLOYED, None, "0.15.2", {}) == (True, "")


@pytest.mark.parametrize(
    ("listed", "deployed", "version", "reason"),
    [
        (None, None, "0.15.2", "no release"),
        (DEPLOYED | {"status": "failed"}, None, "0.15.2", "status failed"),
        (DEPLOYED | {"status": "pending-upgrade"}, None, "0.15.2", "status pending-upgrade"),
        (DEPLOYED, VALUES, "0.15.3", "chart metallb-0.15.2, not version 0.15.3"),
        # a version that only ends like the pinned one is another version
        (DEPLOYED | {"chart": "metallb-10.15.2"}, VALUES, "0.15.2", "chart metallb-10.15.2, not version 0.15.2"),
        (DEPLOYED, {"speaker": {"frr": {"enabled": True}}, "replicas": 2}, "0.15.2", "the values differ"),
        (DEPLOYED, {"speaker": {"frr": {"enabled": False}}}, "0.15.2", "the values differ"),
        (DEPLOYED, VALUES | {"extra": 1}, "0.15.2", "the values differ"),
    ],
)
def test_anything_else_is_not_up_to_date(listed, deployed, version, reason):
    assert verdict(listed, deployed, version, VALUES) == (False, reason)


def test_the_reason_never_holds_a_value():
    up_to_date, reason = verdict(DEPLOYED, {"password": "s3cret"}, "0.15.2", {"password": "other"})
    assert not up_to_date and "s3cret" not in reason and "other" not in reason
