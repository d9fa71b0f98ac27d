"""roles/exadeploy without a cluster: the chart values and the input problems its vars/main.yml computes, for the
backends and chart versions it supports, rendered by the exadeploy fixture chart with helm template (the way the
release will be): the Secrets and keys the objects name are the ones the role makes, every option of the chart's
values is set by a role variable, and bad input is named."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "exadeploy"
CHART = ROOT / "tests" / "charts" / "exadeploy"

REQUIRED = {
    "exadeploy_api_key": "unit-api-key",
    "exadeploy_scheduler_image": "registry.example/exafunction/scheduler:0.10.0",
    "exadeploy_module_repository_image": "registry.example/exafunction/module_repository:0.10.0",
    "exadeploy_runner_image": "registry.example/exafunction/runner:0.10.0",
}
REMOTE = {
    "exadeploy_module_repository_backend": "remote",
    "exadeploy_postgres_host": "db.example",
    "exadeploy_postgres_database": "exadeploy",
    "exadeploy_postgres_user": "exadeploy",
    "exadeploy_postgres_password": "unit-pg-password",
}
S3 = REMOTE | {
    "exadeploy_s3_region": "us-east-1",
    "exadeploy_s3_bucket": "b",
    "exadeploy_s3_access_key_id": "AKIAUNIT",
    "exadeploy_s3_secret_access_key": "unit-secret",
}
GCS = REMOTE | {
    "exadeploy_module_repository_data_backend": "gcs",
    "exadeploy_gcs_bucket": "b",
    "exadeploy_gcp_credentials": {"type": "service_account"},
}

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_vars: {defaults}
    - ansible.builtin.include_vars: {vars}
    - ansible.builtin.copy:
        dest: {out}
        content: "{{{{ {{'values': exadeploy_chart_values, 'problems': exadeploy_problems,
                       'secrets': exadeploy_wanted_secrets}} | to_json }}}}"
        mode: "0600"
"""


def role_vars(tmp_path: Path, variables: dict) -> dict:
    """The role's computed values/problems/Secret names for these variables (as extra vars, like inventory)."""
    out = tmp_path / "out.json"
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(defaults=ROLE / "defaults/main.yml", vars=ROLE / "vars/main.yml", out=out))
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    playbook = Path(sys.executable).parent / "ansible-playbook"
    res = subprocess.run(
        [str(playbook), "-i", "localhost,", "-c", "local", str(play), "-e", f"@{tmp_path / 'vars.json'}"],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1"),
        timeout=120,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(out.read_text())


def render(helm: str, tmp_path: Path, values: dict, chart: Path = CHART) -> dict:
    """{kind/name: object} of the chart rendered with these values."""
    (tmp_path / "values.json").write_text(json.dumps(values))
    res = subprocess.run(
        [helm, "template", "exadeploy", str(chart), "-n", "exadeploy", "--values", str(tmp_path / "values.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(res.stdout) if d}


def secret_refs(objects: dict) -> set:
    """(Secret, key) pairs the Deployments read, through env and volume items."""
    refs = set()
    for name in ("Deployment/scheduler", "Deployment/module-repository"):
        spec = objects[name]["spec"]["template"]["spec"]
        for vol in spec.get("volumes", []):
            if "secret" in vol:
                refs |= {(vol["secret"]["secretName"], item["key"]) for item in vol["secret"]["items"]}
        for entry in spec["containers"][0].get("env", []):
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    return refs


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ({}, {("exadeploy-api-key", "api_key")}),
        (
            S3,
            {
                ("exadeploy-api-key", "api_key"),
                ("exadeploy-postgres-password", "postgres_password"),
                ("exadeploy-aws-access-key", "access_key"),
                ("exadeploy-aws-access-key", "secret_key"),
            },
        ),
        (
            GCS,
            {
                ("exadeploy-api-key", "api_key"),
                ("exadeploy-postgres-password", "postgres_password"),
                ("exadeploy-gcp-credentials", "gcp-credentials.json"),
            },
        ),
    ],
    ids=["local", "s3", "gcs"],
)
def test_the_chart_reads_exactly_the_secrets_the_role_makes(tmp_path, helm_binary, backend, expected):
    computed = role_vars(tmp_path, REQUIRED | backend)
    assert computed["problems"] == []
    objects = render(helm_binary, tmp_path, computed["values"])
    assert secret_refs(objects) == expected
    assert {name for name, _key in expected} == set(computed["secrets"])


def test_scheduling_and_runner_options_reach_the_objects(tmp_path, helm_binary):
    variables = REQUIRED | {
        "exadeploy_scheduler_node_selector": {"pool": "cpu", "zone": 1},
        "exadeploy_module_repository_tolerations": [{"key": "d", "operator": "Exists", "effect": "NoSchedule"}],
        "exadeploy_runner_node_selector": {"nvidia.com/gpu.present": "true"},
        "exadeploy_runner_tolerations": [{"key": "g", "operator": "Equal", "value": "v", "effect": "NoExecute"}],
        "exadeploy_runner_cpu_only": "true",  # an AWX survey answer
        "exadeploy_runner_cpu_limit": "4",
        "exadeploy_runner_memory_limit": "16Gi",
        "exadeploy_suffix": "blue",
    }
    computed = role_vars(tmp_path, variables)
    assert computed["problems"] == []
    objects = render(helm_binary, tmp_path, computed["values"])
    assert objects["Deployment/scheduler-blue"]["spec"]["template"]["spec"]["nodeSelector"] == {
        "pool": "cpu",
        "zone": "1",
    }
    repository = objects["Deployment/module-repository-blue"]["spec"]["template"]["spec"]
    assert repository["tolerations"] == variables["exadeploy_module_repository_tolerations"]
    config = objects["ConfigMap/exafunction-config-blue"]["data"]["exafunction_config.pbtxt"]
    assert 'node_selectors { key: "nvidia.com/gpu.present" value: "true" }' in config
    assert 'value: "v"' in config and 'effect: "NoExecute"' in config
    assert "cpu_only: true" in config and 'cpu_limit: "4"' in config and 'memory_limit: "16Gi"' in config


def test_scheduler_cpu_limit_follows_the_chart_version(tmp_path):
    new = role_vars(tmp_path, REQUIRED | {"exadeploy_scheduler_cpu_limit": "1"})["values"]["scheduler"]
    assert "cpuLimit" not in new
    assert new["resources"] == {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}
    old = role_vars(tmp_path, REQUIRED | {"exadeploy_scheduler_cpu_limit": "1", "exadeploy_chart_version": "1.1.0"})
    assert old["problems"] == []
    assert old["values"]["scheduler"]["cpuLimit"] == "1" and "resources" not in old["values"]["scheduler"]
    assert "resources" not in old["values"]["moduleRepository"]


def schema_leaves(schema: dict, prefix: str = "") -> set:
    props = schema.get("properties")
    if not props:
        return {prefix}
    return {leaf for key, sub in props.items() for leaf in schema_leaves(sub, f"{prefix}.{key}" if prefix else key)}


def value_paths(values, prefix: str = "") -> set:
    if (
        isinstance(values, dict)
        and values
        and not prefix.endswith(("annotations", "nodeSelector", "requests", "limits"))
    ):
        return {p for key, sub in values.items() for p in value_paths(sub, f"{prefix}.{key}" if prefix else key)}
    return {prefix}


# Options the role sets only when given (unset means the chart's default) and the chart's own name overrides.
ONLY_WHEN_GIVEN = {
    "scheduler.ingress.host": {"exadeploy_scheduler_ingress_host": "s.example"},
    "moduleRepository.ingress.host": {"exadeploy_module_repository_ingress_host": "m.example"},
    "runner.ingress.host": {"exadeploy_runner_ingress_host": "r.example"},
    "scheduler.serviceAccountName": {"exadeploy_scheduler_service_account_name": "a"},
    "moduleRepository.serviceAccountName": {"exadeploy_module_repository_service_account_name": "a"},
    "runner.serviceAccountName": {"exadeploy_runner_service_account_name": "a"},
    "serviceAccount.name": {"exadeploy_service_account_name": "a"},
    "scheduler.minRunners": {"exadeploy_scheduler_min_runners": 1},
    "scheduler.maxRunners": {"exadeploy_scheduler_max_runners": 9},
    "runner.cpuLimit": {"exadeploy_runner_cpu_limit": "1"},
    "runner.memoryLimit": {"exadeploy_runner_memory_limit": "1Gi"},
    "moduleRepository.resources": {
        "exadeploy_module_repository_resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}
    },
    "moduleRepository.backend.remote.postgres.sslCertificateName": {"exadeploy_postgres_ssl_certificate_name": "c"},
    "moduleRepository.backend.remote.postgres.sslConfigMapName": {"exadeploy_postgres_ssl_config_map_name": "c"},
}


def test_every_chart_option_is_a_role_variable(tmp_path):
    """Every key of the chart's values (the fixture's schema lists exactly upstream's) is set by some variable."""
    given = {k: v for extra in ONLY_WHEN_GIVEN.values() for k, v in extra.items()}
    paths = set()
    for backend in (S3, GCS):
        computed = role_vars(tmp_path, REQUIRED | backend | given)
        assert computed["problems"] == []
        paths |= value_paths(computed["values"])
    schema = schema_leaves(json.loads((CHART / "values.schema.json").read_text()))
    unset = sorted(
        leaf
        for leaf in schema - {"global", "nameOverride", "fullnameOverride"}
        if not any(p == leaf or p.startswith(leaf + ".") or leaf.startswith(p + ".") for p in paths)
    )
    assert unset == []


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({k: v for k, v in REQUIRED.items() if k != "exadeploy_runner_image"}, "exadeploy_runner_image is required"),
        ({k: v for k, v in REQUIRED.items() if k != "exadeploy_api_key"}, "exadeploy_api_key is required"),
        (REQUIRED | {"exadeploy_module_repository_backend": "remote"}, "exadeploy_postgres_password is required"),
        (REQUIRED | REMOTE, "exadeploy_s3_access_key_id is required"),
        (REQUIRED | GCS | {"exadeploy_gcp_credentials": ""}, "exactly one of exadeploy_gcp_credentials_file"),
        (
            REQUIRED | {"exadeploy_chart_version": "1.1.0", "exadeploy_scheduler_resources": {"limits": {"cpu": 1}}},
            "exadeploy_scheduler_resources needs chart 1.1.1",
        ),
        (
            REQUIRED | {"exadeploy_runner_tolerations": [{"key": "g", "operator": "Exists"}]},
            "exadeploy_runner_tolerations[0]",
        ),
        (REQUIRED | {"exadeploy_s3_secret_name": "exadeploy-api-key"} | S3, "the Secret names must differ"),
        (REQUIRED | {"exadeploy_scheduler_cpu_limit": "lots"}, "exadeploy_scheduler_cpu_limit"),
    ],
)
def test_bad_input_is_named(tmp_path, variables, named):
    problems = role_vars(tmp_path, variables)["problems"]
    assert any(named in p for p in problems), problems
    assert not any(value in " ".join(problems) for value in ("unit-api-key", "unit-pg-password", "unit-secret"))


def test_absent_needs_no_images_nor_key(tmp_path):
    assert role_vars(tmp_path, {"exadeploy_state": "absent"})["problems"] == []
