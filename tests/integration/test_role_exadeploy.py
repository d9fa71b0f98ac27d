"""roles/exadeploy on the lab's API server (kwok nodes; real helm), run from localhost as an AWX execution environment
would, with the exadeploy fixture chart from the lab's basic-auth repository: the Secrets the chart reads exist with
the right keys and contents and the release values point at them, nodeSelectors and tolerations reach the API objects
(the runners' through the config the scheduler reads), a second run and --check change nothing, a value change shows
in --check --diff and upgrades, a rotated key restarts the pods that read it, a switch of backend removes the Secret no
longer used, an older chart version upgrades to the pinned one, bad input fails before any change naming the
variable, no secret appears at -vvv, and state absent removes the release and the role's Secrets (no others)."""

import base64
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role
from leaks import leaked
from rolerun import REPO

CHART_DIR = REPO / "tests" / "charts" / "exadeploy"
VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["version"]
RELEASE = "exadeploy"
IMAGES = {
    "exadeploy_scheduler_image": "registry.example/exafunction/scheduler:0.10.0",
    "exadeploy_module_repository_image": "registry.example/exafunction/module_repository:0.10.0",
    "exadeploy_runner_image": "registry.example/exafunction/runner:0.10.0",
}
API_KEY = "exa-api-key-Lab-7f3c9a"
PG_PASSWORD = "pg-pass-Lab-41d8e2"
ACCESS_KEY = "AKIALABEXAMPLE0042"
SECRET_KEY = "aws-secret-Lab-9b2d77/+x"
SELECTORS = {
    "scheduler": {"kubernetes.io/hostname": "node-1"},
    "module_repository": {"kubernetes.io/hostname": "node-2"},
    "runner": {"type": "kwok"},
}
TOLERATIONS = {
    "scheduler": [{"key": "dedicated", "operator": "Equal", "value": "exadeploy", "effect": "NoSchedule"}],
    "module_repository": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    "runner": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "exa")
    yield env
    for ns in (env["NAMESPACE"], env["NAMESPACE"] + "-old"):
        helm(env, "uninstall", "-n", ns, RELEASE, "--ignore-not-found")
        kubectl(env, "delete", "namespace", ns, "--ignore-not-found", "--wait=false")


def variables(env, **extra):
    base = {
        "exadeploy_namespace": env["NAMESPACE"],
        "exadeploy_repo": lab_repo(env),
        "exadeploy_chart_version": VERSION,
        "exadeploy_kubeconfig": env["KUBECONFIG"],
        "exadeploy_helm_binary": env["LAB_HELM"],
        "exadeploy_timeout": "3m",
        "exadeploy_api_key": API_KEY,
        # the lab has no load-balancer controller; small requests leave room for the other tests' pods
        "exadeploy_scheduler_service_type": "ClusterIP",
        "exadeploy_module_repository_service_type": "ClusterIP",
        "exadeploy_scheduler_cpu_limit": "500m",
        "exadeploy_scheduler_resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "256Mi"}},
        "exadeploy_module_repository_resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        "exadeploy_module_repository_backend": "remote",
        "exadeploy_postgres_host": "postgres.lab.internal",
        "exadeploy_postgres_database": "exadeploy",
        "exadeploy_postgres_user": "exadeploy",
        "exadeploy_postgres_password": PG_PASSWORD,
        "exadeploy_module_repository_data_backend": "s3",
        "exadeploy_s3_region": "us-east-1",
        "exadeploy_s3_bucket": "exadeploy-lab",
        "exadeploy_s3_access_key_id": ACCESS_KEY,
        "exadeploy_s3_secret_access_key": SECRET_KEY,
        "exadeploy_runner_cpu_only": True,
        "exadeploy_runner_cpu_limit": "2",
        "exadeploy_runner_memory_limit": "4Gi",
        **IMAGES,
    }
    for part, selector in SELECTORS.items():
        base[f"exadeploy_{part}_node_selector"] = selector
        base[f"exadeploy_{part}_tolerations"] = TOLERATIONS[part]
    return base | extra


def run(env, tmp_path, extra=None, *flags):
    return run_role(env, tmp_path, "exadeploy", variables(env, **(extra or {})), *flags)


def decoded(env, name, namespace=None):
    secret = kubectl_json(env, "get", "secret", name, "-n", namespace or env["NAMESPACE"])
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def secret_names(env, namespace=None):
    listed = kubectl_json(env, "get", "secrets", "-n", namespace or env["NAMESPACE"])["items"]
    return {s["metadata"]["name"] for s in listed if s["type"] == "Opaque"}


def values_of(env, namespace=None):
    out = helm(env, "get", "values", RELEASE, "-n", namespace or env["NAMESPACE"], "-o", "json").stdout
    return json.loads(out)


def history(env, namespace=None):
    out = helm(env, "history", RELEASE, "-n", namespace or env["NAMESPACE"], "-o", "json").stdout
    return json.loads(out)


def pod_spec(env, deployment, namespace=None):
    return kubectl_json(env, "get", "deployment", deployment, "-n", namespace or env["NAMESPACE"])["spec"]["template"]


def config_text(env):
    cm = kubectl_json(env, "get", "configmap", "exafunction-config", "-n", env["NAMESPACE"])
    return cm["data"]["exafunction_config.pbtxt"]


def unresolved_references(env):
    """Secret keys the two Deployments name (env and volume items) that their Secrets lack, as a kubelet would see."""
    missing = []
    for name in ("scheduler", "module-repository"):
        spec = pod_spec(env, name)["spec"]
        for vol in spec.get("volumes", []):
            if "secret" in vol:
                keys = decoded(env, vol["secret"]["secretName"])
                missing += [
                    f"{name}: {item['key']}" for item in vol["secret"].get("items", []) if item["key"] not in keys
                ]
        for entry in spec["containers"][0].get("env", []):
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["key"] not in decoded(env, ref["name"]):
                missing.append(f"{name}: {ref['name']}/{ref['key']}")
    return missing


def test_install_idempotent_then_a_value_change_upgrades(lab, tmp_path):
    rc, stats, out = run(lab, tmp_path)
    assert rc == 0, out[-6000:]

    # the Secrets, their keys and contents, made by the role and labelled as its own
    assert decoded(lab, "exadeploy-api-key") == {"api_key": API_KEY}
    assert decoded(lab, "exadeploy-postgres-password") == {"postgres_password": PG_PASSWORD}
    assert decoded(lab, "exadeploy-aws-access-key") == {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
    labels = kubectl_json(lab, "get", "secret", "exadeploy-api-key", "-n", lab["NAMESPACE"])["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "baremetal.k8s.exadeploy"

    # the release values point at them
    values = values_of(lab)
    assert values["exafunction"]["apiKeySecret"] == {"name": "exadeploy-api-key", "key": "api_key"}
    remote = values["moduleRepository"]["backend"]["remote"]
    assert values["moduleRepository"]["backend"]["type"] == "remote"
    assert remote["postgres"]["passwordSecret"] == {"name": "exadeploy-postgres-password", "key": "postgres_password"}
    assert remote["s3"]["awsAccessKeySecret"] == {
        "name": "exadeploy-aws-access-key",
        "accessKeyIdKey": "access_key",
        "secretAccessKeyKey": "secret_key",
    }
    assert values["runner"]["cpuOnly"] is True
    assert [values[c]["image"] for c in ("scheduler", "moduleRepository", "runner")] == list(IMAGES.values())
    assert unresolved_references(lab) == []

    # scheduling in the API objects: the Deployments' pod specs, and the runner config the scheduler reads
    for deployment, part in (("scheduler", "scheduler"), ("module-repository", "module_repository")):
        spec = pod_spec(lab, deployment)["spec"]
        assert spec["nodeSelector"] == SELECTORS[part], deployment
        assert spec["tolerations"] == TOLERATIONS[part], deployment
    scheduler = pod_spec(lab, "scheduler")["spec"]["containers"][0]
    assert scheduler["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    config = config_text(lab)
    assert 'node_selectors { key: "type" value: "kwok" }' in config
    assert 'key: "nvidia.com/gpu"' in config and 'operator: "Exists"' in config and 'effect: "NoSchedule"' in config
    assert "cpu_only: true" in config and 'cpu_limit: "2"' in config and 'memory_limit: "4Gi"' in config
    revision = len(history(lab))

    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run(lab, tmp_path, None, *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])

    change = {"exadeploy_scheduler_runner_creation_timeout_seconds": 900}
    rc, stats, out = run(lab, tmp_path, change, "--check", "--diff")
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert "runner_creation_timeout_seconds: 900" in out or "runnerCreationTimeoutSeconds: 900" in out, out[-4000:]
    assert len(history(lab)) == revision, "--check changed nothing"
    rc, stats, out = run(lab, tmp_path, change)
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert len(history(lab)) == revision + 1
    assert history(lab)[-1]["status"] == "deployed"
    assert values_of(lab)["scheduler"]["runnerCreationTimeoutSeconds"] == 900
    assert "runner_creation_timeout_seconds: 900" in config_text(lab)
    rc, stats, out = run(lab, tmp_path, change)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def test_a_rotated_key_restarts_only_the_pods_that_read_it(lab, tmp_path):
    before = {d: pod_spec(lab, d)["metadata"].get("annotations", {}) for d in ("scheduler", "module-repository")}
    revision = len(history(lab))
    extra = {"exadeploy_scheduler_runner_creation_timeout_seconds": 900, "exadeploy_api_key": API_KEY + "-rotated"}
    rc, stats, out = run(lab, tmp_path, extra)
    assert rc == 0 and stats.get("changed") == 2, out[-4000:]  # the Secret and the scheduler's restart
    assert decoded(lab, "exadeploy-api-key") == {"api_key": API_KEY + "-rotated"}
    after = {d: pod_spec(lab, d)["metadata"].get("annotations", {}) for d in ("scheduler", "module-repository")}
    assert "kubectl.kubernetes.io/restartedAt" in after["scheduler"]
    assert after["scheduler"].get("kubectl.kubernetes.io/restartedAt") != before["scheduler"].get(
        "kubectl.kubernetes.io/restartedAt"
    )
    assert after["module-repository"] == before["module-repository"]
    assert len(history(lab)) == revision, "the chart did not change"
    rc, stats, out = run(lab, tmp_path, extra)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def test_a_switch_to_gcs_uses_its_key_file_and_drops_the_s3_secret(lab, tmp_path):
    key_file = tmp_path / "gcp-key.json"
    key_text = json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nlab\n"}) + "\n"
    key_file.write_text(key_text)
    extra = {
        "exadeploy_module_repository_data_backend": "gcs",
        "exadeploy_gcs_bucket": "exadeploy-lab",
        "exadeploy_gcp_credentials_file": str(key_file),
    }
    rc, stats, out = run(lab, tmp_path, extra)
    assert rc == 0, out[-6000:]
    assert decoded(lab, "exadeploy-gcp-credentials") == {"gcp-credentials.json": key_text}, "byte for byte"
    assert "exadeploy-aws-access-key" not in secret_names(lab)
    assert {"exadeploy-api-key", "exadeploy-postgres-password"} <= secret_names(lab)
    gcs = values_of(lab)["moduleRepository"]["backend"]["remote"]["gcs"]
    assert gcs == {
        "bucket": "exadeploy-lab",
        "gcpCredentialsSecret": {"name": "exadeploy-gcp-credentials", "gcpCredentialsJsonKey": "gcp-credentials.json"},
    }
    assert unresolved_references(lab) == []
    rc, stats, out = run(lab, tmp_path, extra)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    rc, stats, out = run(lab, tmp_path)  # back to S3 for the tests below
    assert rc == 0, out[-4000:]
    assert "exadeploy-gcp-credentials" not in secret_names(lab)


def test_no_secret_in_the_output_at_vvv(lab, tmp_path):
    rotated = {"exadeploy_api_key": API_KEY + "-vvv", "exadeploy_postgres_password": PG_PASSWORD + "-vvv"}
    outputs = []
    for extra in (rotated, rotated, {}):  # a changing run, a converged one, and back
        rc, _stats, out = run(lab, tmp_path, extra, "-vvv", "--diff")
        assert rc == 0, out[-4000:]
        assert "ESTABLISH LOCAL CONNECTION" in out
        outputs.append(out)
    rc, _stats, out = run(lab, tmp_path, {"exadeploy_runner_image": ""}, "-vvv")
    assert rc != 0
    outputs.append(out)
    secrets = [API_KEY, API_KEY + "-vvv", PG_PASSWORD, PG_PASSWORD + "-vvv", ACCESS_KEY, SECRET_KEY, lab["PASSWORD"]]
    assert [leaked(out, *secrets) for out in outputs] == [[], [], [], []]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"exadeploy_runner_image": ""}, "exadeploy_runner_image is required"),
        ({"exadeploy_scheduler_image": "  "}, "exadeploy_scheduler_image is required"),
        ({"exadeploy_api_key": ""}, "exadeploy_api_key is required"),
        ({"exadeploy_postgres_password": ""}, "exadeploy_postgres_password is required"),
        ({"exadeploy_s3_secret_access_key": ""}, "exadeploy_s3_secret_access_key is required"),
        (
            {"exadeploy_module_repository_data_backend": "gcs", "exadeploy_gcs_bucket": "b"},
            "exadeploy_gcp_credentials_file and exadeploy_gcp_credentials",
        ),
        ({"exadeploy_runner_tolerations": [{"key": "gpu", "operator": "Exists"}]}, "exadeploy_runner_tolerations[0]"),
        ({"exadeploy_chart_version": "1.0.0"}, "exadeploy_chart_version"),
        ({"exadeploy_module_repository_backend": "s3"}, "exadeploy_module_repository_backend"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    namespace = lab["NAMESPACE"] + "-bad"
    rc, stats, out = run(lab, tmp_path, {"exadeploy_namespace": namespace} | change)
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
    assert kubectl(lab, "get", "namespace", namespace).returncode != 0, "nothing was made, not even the namespace"


class ChartRepo:
    """A plain HTTP chart repository on loopback holding the fixture chart rebuilt as 1.1.0 (scheduler.cpuLimit, the
    module repository's fixed resources): the version before the pinned one, so the role can upgrade from it."""

    def __init__(self, env, root: Path):
        chart = root / "src" / "exadeploy"
        shutil.copytree(CHART_DIR, chart)
        meta = yaml.safe_load((chart / "Chart.yaml").read_text()) | {"version": "1.1.0"}
        (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
        values = yaml.safe_load((chart / "values.yaml").read_text())
        del values["scheduler"]["resources"], values["moduleRepository"]["resources"]
        values["scheduler"]["cpuLimit"] = "2.5"
        (chart / "values.yaml").write_text(yaml.safe_dump(values))
        schema = json.loads((chart / "values.schema.json").read_text())
        props = schema["properties"]
        del props["scheduler"]["properties"]["resources"], props["moduleRepository"]["properties"]["resources"]
        props["scheduler"]["properties"]["cpuLimit"] = {"type": ["string", "number"]}
        (chart / "values.schema.json").write_text(json.dumps(schema))
        self.dir = root / "repo"
        self.dir.mkdir()
        subprocess.run([env["LAB_HELM"], "package", str(chart), "-d", str(self.dir)], check=True, capture_output=True)
        directory = str(self.dir)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        subprocess.run([env["LAB_HELM"], "repo", "index", directory, "--url", self.url], check=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_upgrade_from_the_previous_chart_version(lab, tmp_path):
    repo = ChartRepo(lab, tmp_path)
    try:
        upgrade_from_the_previous_chart_version(lab, tmp_path, repo)
    finally:
        repo.close()


def upgrade_from_the_previous_chart_version(lab, tmp_path, repo):
    namespace = lab["NAMESPACE"] + "-old"
    old = {
        "exadeploy_namespace": namespace,
        "exadeploy_chart_version": "1.1.0",
        "exadeploy_repo": {"name": "exa-previous", "url": repo.url},
        "exadeploy_scheduler_resources": {},
        "exadeploy_module_repository_resources": {},
        "exadeploy_module_repository_backend": "local",
    }
    rc, stats, out = run(lab, tmp_path, old)
    assert rc == 0, out[-6000:]
    [first] = history(lab, namespace)
    assert first["chart"] == "exadeploy-1.1.0"
    assert values_of(lab, namespace)["scheduler"]["cpuLimit"] == "500m"
    container = pod_spec(lab, "scheduler", namespace)["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "500m"}
    assert secret_names(lab, namespace) == {"exadeploy-api-key"}, "the local backend needs no other Secret"

    new = old | {"exadeploy_chart_version": VERSION, "exadeploy_repo": lab_repo(lab)}
    rc, stats, out = run(lab, tmp_path, new)
    assert rc == 0 and stats.get("changed", 0) >= 1, out[-6000:]
    releases = history(lab, namespace)
    assert [(r["revision"], r["chart"], r["status"]) for r in releases] == [
        (1, "exadeploy-1.1.0", "superseded"),
        (2, f"exadeploy-{VERSION}", "deployed"),
    ]
    values = values_of(lab, namespace)
    assert "cpuLimit" not in values["scheduler"]
    assert values["scheduler"]["resources"] == {"requests": {"cpu": "500m"}, "limits": {"cpu": "500m"}}
    resources = pod_spec(lab, "scheduler", namespace)["spec"]["containers"][0]["resources"]
    assert resources["limits"]["cpu"] == "500m" and resources["requests"]["cpu"] == "500m"
    assert decoded(lab, "exadeploy-api-key", namespace) == {"api_key": API_KEY}
    rc, stats, out = run(lab, tmp_path, new)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def test_absent_removes_the_release_and_only_the_role_secrets(lab, tmp_path):
    foreign = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "not-the-roles", "namespace": lab["NAMESPACE"]},
        "stringData": {"x": "y"},
    }
    (tmp_path / "foreign.json").write_text(json.dumps(foreign))
    kubectl(lab, "apply", "-f", str(tmp_path / "foreign.json"), check=True)
    gone = {"exadeploy_state": "absent", "exadeploy_api_key": "", **dict.fromkeys(IMAGES, "")}
    rc, stats, out = run(lab, tmp_path, gone)
    assert rc == 0 and stats.get("changed", 0) >= 1, out[-4000:]
    assert helm(lab, "status", RELEASE, "-n", lab["NAMESPACE"]).returncode != 0
    assert secret_names(lab) == {"not-the-roles"}
    assert kubectl(lab, "get", "deployment", "scheduler", "-n", lab["NAMESPACE"]).returncode != 0
    rc, stats, out = run(lab, tmp_path, gone)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
