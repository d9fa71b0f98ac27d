"""helm_release_state's verdicts: when a deployed release (and its namespace) needs no run, and the reason otherwise."""

import pytest
from ansible_collections.baremetal.k8s.plugins.modules.helm_release_state import namespace_verdict, verdict

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


def test_namespace_missing_is_not_up_to_date():
    assert namespace_verdict(None, {}, {}) == (False, "no namespace")


def test_namespace_with_the_wanted_metadata_and_more_is_up_to_date():
    live = {"metadata": {"labels": {"team": "storage", "kubernetes.io/metadata.name": "x"}, "annotations": {"a": "1"}}}
    assert namespace_verdict(live, {"team": "storage"}, {"a": 1}) == (True, "")  # numbers compare as strings
    assert namespace_verdict({"metadata": {}}, {}, {}) == (True, "")


def test_namespace_names_the_keys_that_differ_not_their_values():
    live = {"metadata": {"labels": {"team": "storage"}, "annotations": {}}}
    assert namespace_verdict(live, {"team": "db", "tier": "2"}, {}) == (False, "labels differ: team, tier")
    assert namespace_verdict(live, {"team": "storage"}, {"note": "x"}) == (False, "annotations differ: note")
