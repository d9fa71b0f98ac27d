"""helm_release's export mode: chart reference, values, and no secret in what it writes."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.helm_export import FilterModule

F = FilterModule().filters()
SECRETS = ("repo-pass-1", "oci-pass-2", "pull-pass-3", "db-pass-4")


def spec(**over):
    base = {
        "name": "cs",
        "namespace": "codescoring",
        "source": "repo",
        "chart": "codescoring",
        "chart_version": "2025.48.1",
        "repo": {"name": "cs", "url": "https://charts.example", "username": "u", "password": "repo-pass-1"},
        "values": {"postgresql": {"auth": {"password": "db-pass-4", "user": "cs"}}, "replicas": [{"n": 1}]},
        "secret_paths": ["postgresql.auth.password"],
        "values_contain_secrets": True,
        "image_pull_secrets": [
            {"name": "regcred", "registry": "r.example", "username": "u", "password": "pull-pass-3"}
        ],
        "namespace_labels": {"team": "a"},
    }
    base.update(over)
    return base


def test_repo_release_keeps_the_reference_and_drops_every_secret():
    out = F["helm_release_export"](spec())
    text = json.dumps(out)
    assert not [s for s in SECRETS if s in text]
    rel = out["release"]
    assert rel["chart"] == {
        "source": "repo",
        "chart": "codescoring",
        "version": "2025.48.1",
        "repository": {
            "name": "cs",
            "url": "https://charts.example",
            "username": "u",
            "password": "SECRET(codescoring/cs: repository password)",
        },
    }
    assert out["values"]["postgresql"]["auth"] == {
        "password": "SECRET(codescoring/cs: values postgresql.auth.password)",
        "user": "cs",
    }
    assert rel["image_pull_secrets"][0]["password"].startswith("SECRET(codescoring/cs: image pull secret regcred")
    assert rel["namespace_object"]["labels"] == {"team": "a"}
    assert rel["helm_template"] == (
        "helm template cs cs/codescoring --namespace codescoring --version 2025.48.1 --include-crds"
        " --values values.yaml"
    )


def test_the_input_is_not_modified():
    s = spec()
    F["helm_release_export"](s)
    assert s["values"]["postgresql"]["auth"]["password"] == "db-pass-4"


def test_oci_and_path_references():
    oci = F["helm_release_export"](
        spec(
            source="oci",
            chart="oci://10.77.0.1:5000/charts/cert-manager",
            oci_login={"registry": "10.77.0.1:5000", "username": "lab", "password": "oci-pass-2"},
            plain_http=True,
            skip_crds=True,
            values={},
            secret_paths=[],
            values_contain_secrets=False,
        ),
        "cm.yaml",
    )
    assert "oci-pass-2" not in json.dumps(oci)
    assert oci["release"]["chart"]["registry_login"]["password"] == "SECRET(codescoring/cs: registry password)"
    assert oci["release"]["helm_template"].endswith("--version 2025.48.1 --plain-http --values cm.yaml")
    path = F["helm_release_export"](
        spec(
            source="path",
            chart="/srv/charts/my chart",
            chart_version="",
            values={},
            secret_paths=[],
            values_contain_secrets=False,
        )
    )
    assert path["release"]["chart"] == {"source": "path", "chart": "/srv/charts/my chart"}
    assert "'/srv/charts/my chart'" in path["release"]["helm_template"]


def test_list_index_in_a_secret_path():
    out = F["helm_release_export"](spec(values={"users": [{"pw": "db-pass-4"}]}, secret_paths=["users.0.pw"]))
    assert out["values"]["users"][0]["pw"].startswith("SECRET(")


def test_paths_holding_one_secret_share_one_reference():
    """A chart's "must match" check (CodeScoring's pgbouncer and app passwords) still passes on the export."""
    values = {"app": {"db": "db-pass-4"}, "pooler": {"db": "db-pass-4"}, "other": "oci-pass-2"}
    out = F["helm_release_export"](spec(values=values, secret_paths=["app.db", "pooler.db", "other"]))["values"]
    assert out["app"]["db"] == out["pooler"]["db"] == "SECRET(codescoring/cs: values app.db)"
    assert out["other"] == "SECRET(codescoring/cs: values other)"


@pytest.mark.parametrize(
    "over, message",
    [
        ({"secret_paths": ["postgresql.auth.pasword"]}, "postgresql.auth.pasword is not in the values"),
        ({"secret_paths": []}, "helm_release_values_contain_secrets is set"),
        ({"secret_paths": ["a..b"]}, "not a dotted path"),
        ({"chart": ""}, "helm_release_chart is required"),
    ],
)
def test_refuses_what_could_leak_or_is_incomplete(over, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F["helm_release_export"](spec(**over))
