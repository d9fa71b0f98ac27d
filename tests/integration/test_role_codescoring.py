"""roles/codescoring on the lab's API server: the codescoring fixture chart (the private vendor chart's documented
keys) from the lab's basic-auth chart repository, installed as an AWX execution environment would.

Installed with one volume in each of the four modes (a StorageClass served by the lab's provisioner stand-in, a
pre-created PV, a pre-created claim, a local PV the chart makes on node-0) and a temp-scan claim; the pull Secret
is a dockerconfigjson with the right credentials; the "must match" passwords are equal in every chart Secret;
ingress host, resources (init containers too) and CA certificates reach the objects; a second run and --check
change nothing; a value change upgrades this release once; bad input fails before any change naming the variable;
no secret shows at -vvv; state absent removes the release and the pull Secret.

Simulated: the admin password change. The lab's pods are kwok's (no container runs, so exec cannot), so its guard
is tested here (no exec while the release's password equals the variable; a changed password runs the exec task
before the upgrade, which fails on kwok and leaves the release untouched) and its command and standard input in
tests/unit/plugins/test_codescoring.py."""

import base64
import json
import uuid

import pytest
import yaml
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role
from leaks import leaked
from rolerun import REPO

CHART_DIR = REPO / "tests" / "charts" / "codescoring"
VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["version"]
TOKEN = uuid.uuid4().hex[:10]
SECRETS = {
    "codescoring_secret_key": f"sk-{TOKEN}-django",
    "codescoring_superuser_password": f"admin-{TOKEN}-pw",
    "codescoring_db_password": f"db-{TOKEN}-pw",
    "codescoring_registry_password": f"pull-{TOKEN}-pw",
}
NEW_ADMIN_PASSWORD = f"admin2-{TOKEN}-pw"
REGISTRY = "registry.lab.local:5000"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBlab" + TOKEN + "\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "cs")
    ns = env["NAMESPACE"]
    env["CLASS"] = f"{ns}-local"
    env["MEDIA_PV"] = f"{ns}-media"
    kubectl(env, "create", "namespace", ns, check=True)
    objects = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": env["CLASS"]},
            "provisioner": "openebs.io/local",  # bound by the lab's provisioner stand-in
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": env["MEDIA_PV"]},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": f"/var/lib/codescoring/{ns}/media", "type": "DirectoryOrCreate"},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "static-claim", "namespace": ns},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": env["CLASS"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    ]
    manifest = tmp_path_factory.mktemp("cs-objects") / "objects.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    kubectl(env, "apply", "-f", str(manifest), check=True)
    yield env
    helm(env, "uninstall", "-n", ns, "codescoring", "--ignore-not-found", "--wait")
    kubectl(env, "delete", "namespace", ns, "--ignore-not-found", "--wait=false")
    kubectl(env, "delete", "pv", env["MEDIA_PV"], f"{ns}-backup", "--ignore-not-found", "--wait=false")
    kubectl(env, "delete", "storageclass", env["CLASS"], "--ignore-not-found")


def variables(env, **extra):
    repo = lab_repo(env)
    return (
        {
            "codescoring_namespace": env["NAMESPACE"],
            "codescoring_chart_version": VERSION,
            "codescoring_repo_name": repo["name"],
            "codescoring_repo_url": repo["url"],
            "codescoring_repo_username": repo["username"],
            "codescoring_repo_password": repo["password"],
            "codescoring_registry_url": REGISTRY,
            "codescoring_registry_username": "puller",
            "codescoring_site_host": f"{env['NAMESPACE']}.lab.local",
            "codescoring_superuser_email": "admin@lab.local",
            "codescoring_volumes": {
                "analysis_root": {"storage_class": env["CLASS"], "size": "1Gi"},
                "media_root": {"volume_name": env["MEDIA_PV"], "size": "1Gi"},
                "django_static": {"existing_claim": "static-claim"},
                "backup": {"local": {"path": f"/var/lib/codescoring/{env['NAMESPACE']}/backup", "node": "node-0"}},
                "postgresql": {"storage_class": env["CLASS"], "size": "1Gi"},
                "redis": {"storage_class": env["CLASS"], "size": "1Gi"},
                "huey_package_scan_tmp": {"storage_class": env["CLASS"], "size": "1Gi"},
            },
            "codescoring_resources": {
                "backend": {"limits": {"cpu": "250m", "memory": "2500Mi"}},
                "tasks_policy": {"requests": {"cpu": "100m"}, "limits": {"cpu": "2250m"}},
                "backend_init": {"limits": {"cpu": "2500m", "memory": "2500Mi"}},
                "init_containers": {"requests": {"cpu": "200m", "memory": "200Mi"}},
            },
            "codescoring_trusted_ca_certificates": {"lab-root.crt": PEM},
            "codescoring_kubeconfig": env["KUBECONFIG"],
            "codescoring_helm_binary": env["LAB_HELM"],
            "codescoring_timeout": "5m",
        }
        | SECRETS
        | extra
    )


def run(env, tmp_path, variables_, *flags):
    return run_role(env, tmp_path, "codescoring", variables_, *flags)


def get(env, *args):
    return kubectl_json(env, "get", *args, "-n", env["NAMESPACE"])


def decoded(secret):
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def history(env):
    return json.loads(helm(env, "history", "codescoring", "-n", env["NAMESPACE"], "-o", "json").stdout)


def release_values(env):
    return yaml.safe_load(helm(env, "get", "values", "codescoring", "-n", env["NAMESPACE"], "-o", "yaml").stdout)


def pod_spec(env, deployment):
    return get(env, "deployment", deployment)["spec"]["template"]["spec"]


def test_install_objects_idempotent(lab, tmp_path):
    rc, _stats, out = run(lab, tmp_path, variables(lab))
    assert rc == 0, out[-6000:]
    listed = json.loads(helm(lab, "list", "-n", lab["NAMESPACE"], "-o", "json").stdout)
    assert [(r["name"], r["status"], r["chart"]) for r in listed] == [
        ("codescoring", "deployed", f"codescoring-{VERSION}")
    ]

    pull = get(lab, "secret", "codescoring-regcred")
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(decoded(pull)[".dockerconfigjson"])["auths"]
    password = SECRETS["codescoring_registry_password"]
    assert list(auths) == [REGISTRY]
    assert (auths[REGISTRY]["username"], auths[REGISTRY]["password"]) == ("puller", password)
    assert base64.b64decode(auths[REGISTRY]["auth"]).decode() == f"puller:{password}"
    assert pod_spec(lab, "ipcs-backend")["imagePullSecrets"] == [{"name": "codescoring-regcred"}]

    host = f"{lab['NAMESPACE']}.lab.local"
    ingress = get(lab, "ingress", "ipcs-frontend")["spec"]
    assert (ingress["ingressClassName"], [r["host"] for r in ingress["rules"]]) == ("nginx", [host])
    config = get(lab, "configmap", "ipcs-backend")["data"]
    assert config["SITE_HOST"] == host and config["DJANGO_CSRF_TRUSTED_ORIGINS"] == f"https://{host}"
    assert (config["DATABASE_HOST"], config["DATABASE_PORT"]) == ("pgbouncer", "6432")  # the current pooler

    backend = decoded(get(lab, "secret", "ipcs-backend"))
    assert backend["SECRET_KEY"] == SECRETS["codescoring_secret_key"]
    assert backend["DEFAULT_SUPERUSER_PASSWORD"] == SECRETS["codescoring_superuser_password"]
    db = SECRETS["codescoring_db_password"]
    assert backend["POSTGRESQL_PASSWORD"] == db
    assert decoded(get(lab, "secret", "pgbouncer"))["POSTGRESQL_PASSWORD"] == db  # "must match"
    assert decoded(get(lab, "secret", "codescoring-postgresql"))["POSTGRES_PASSWORD"] == db
    assert "ipcs-pgcat" not in {d["metadata"]["name"] for d in get(lab, "deployment")["items"]}

    claims = {c["metadata"]["name"]: c for c in get(lab, "pvc")["items"]}
    assert claims["analysis-root"]["spec"]["storageClassName"] == lab["CLASS"]
    assert claims["media-root"]["spec"]["volumeName"] == lab["MEDIA_PV"]
    assert "django-static" not in claims, "the pre-created claim is used as it is"
    data_volumes = {v["name"]: v for v in pod_spec(lab, "ipcs-backend")["volumes"]}
    assert data_volumes["django-static"]["persistentVolumeClaim"]["claimName"] == "static-claim"
    assert claims["backup"]["spec"]["volumeName"] == f"{lab['NAMESPACE']}-backup"
    local = kubectl_json(lab, "get", "pv", f"{lab['NAMESPACE']}-backup")["spec"]
    assert local["local"]["path"] == f"/var/lib/codescoring/{lab['NAMESPACE']}/backup"
    terms = local["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == ["node-0"]
    assert claims["codescoring-postgresql"]["spec"]["storageClassName"] == lab["CLASS"]
    assert claims["huey-package-scan-tmp"]["spec"]["storageClassName"] == lab["CLASS"]
    assert all(c["status"]["phase"] == "Bound" for c in claims.values()), {n: c["status"] for n, c in claims.items()}

    scan = pod_spec(lab, "ipcs-huey-tasks-osa-package-scan")
    volumes = {v["name"]: v for v in scan["volumes"]}
    assert volumes["scan-tmp"]["persistentVolumeClaim"]["claimName"] == "huey-package-scan-tmp"
    assert volumes["package-scan-ssl-certs"] == {"name": "package-scan-ssl-certs", "emptyDir": {}}
    mounts = {m["mountPath"]: m["name"] for m in scan["containers"][0]["volumeMounts"]}
    assert mounts["/tmp"] == "scan-tmp" and mounts["/etc/ssl/certs"] == "package-scan-ssl-certs"

    spec = pod_spec(lab, "ipcs-backend")
    assert spec["containers"][0]["resources"] == {"limits": {"cpu": "250m", "memory": "2500Mi"}}
    assert spec["initContainers"][0]["resources"] == {"limits": {"cpu": "2500m", "memory": "2500Mi"}}
    policy = pod_spec(lab, "ipcs-huey-tasks-policy")
    assert policy["containers"][0]["resources"] == {"requests": {"cpu": "100m"}, "limits": {"cpu": "2250m"}}
    assert policy["initContainers"][0]["resources"] == {"requests": {"cpu": "200m", "memory": "200Mi"}}

    assert get(lab, "configmap", "ipcs-trusted-ca")["data"] == {"lab-root.crt": PEM}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["trusted-ca"]["configMap"]["name"] == "ipcs-trusted-ca"
    assert release_values(lab)["codescoring"]["trustedCA"]["enabled"] is True

    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run(lab, tmp_path, variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])


def test_a_value_change_upgrades_this_release_once(lab, tmp_path):
    before = history(lab)[-1]["revision"]
    pull_version = get(lab, "secret", "codescoring-regcred")["metadata"]["resourceVersion"]
    change = {"codescoring_resources": variables(lab)["codescoring_resources"] | {"frontend": {"limits": {"cpu": "1"}}}}
    rc, stats, out = run(lab, tmp_path, variables(lab, **change), "--check")
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert history(lab)[-1]["revision"] == before, "--check changed nothing"
    rc, stats, out = run(lab, tmp_path, variables(lab, **change))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert [h["revision"] for h in history(lab)][-1] == before + 1
    assert pod_spec(lab, "ipcs-frontend")["containers"][0]["resources"] == {"limits": {"cpu": "1"}}
    assert get(lab, "secret", "codescoring-regcred")["metadata"]["resourceVersion"] == pull_version
    rc, stats, out = run(lab, tmp_path, variables(lab, **change))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def test_admin_password_change_runs_in_the_pod_before_the_upgrade(lab, tmp_path):
    """The guard on the lab: a changed password runs the exec task first (kwok cannot exec, so it fails there and
    the release keeps the old password, to be retried by the next run); without the sync the upgrade proceeds; the
    same password again does not exec (that run would fail on kwok if it did)."""
    before = history(lab)[-1]["revision"]
    new = variables(lab, codescoring_superuser_password=NEW_ADMIN_PASSWORD)
    rc, stats, out = run(lab, tmp_path, new)
    assert rc != 0 and stats.get("failures") == 1, out[-4000:]
    assert "Change the admin password in a backend pod" in out and "ipcs-backend-" in out, out[-4000:]
    assert leaked(out, NEW_ADMIN_PASSWORD, SECRETS["codescoring_superuser_password"]) == []
    assert history(lab)[-1]["revision"] == before, "no upgrade after a failed password change"
    assert release_values(lab)["codescoring"]["config"]["defaultSuperuserPassword"] != NEW_ADMIN_PASSWORD

    rc, stats, out = run(lab, tmp_path, new | {"codescoring_admin_password_sync": False})
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert decoded(get(lab, "secret", "ipcs-backend"))["DEFAULT_SUPERUSER_PASSWORD"] == NEW_ADMIN_PASSWORD
    rc, stats, out = run(lab, tmp_path, new)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    SECRETS["codescoring_superuser_password"] = NEW_ADMIN_PASSWORD


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"codescoring_secret_key": ""}, "codescoring_secret_key is required"),
        (
            {"codescoring_volumes": {"analysis_root": {"storage_class": "a", "existing_claim": "b"}}},
            "codescoring_volumes.analysis_root: choose exactly one mode",
        ),
        ({"codescoring_volumes": {"backup": {"local": {"path": "/x"}}}}, "codescoring_volumes.backup.local.node"),
        ({"codescoring_volumes": {"data": {}}}, "codescoring_volumes.data: unknown volume"),
        ({"codescoring_chart_version": ""}, "codescoring_chart_version must pin"),
        ({"codescoring_chart_version": ">=2025.1.0"}, "codescoring_chart_version must pin"),
        ({"codescoring_pooler": "pgcat"}, "codescoring_pgcat_admin_password is required"),
        ({"codescoring_pooler": "pgpool"}, "codescoring_pooler"),
        ({"codescoring_redis_huey_url": "rediss://redis.lab:6379/0"}, "codescoring_redis_caches_urls"),
        ({"codescoring_replicas": {"backend": 2}}, "codescoring_replicas.backend above 1 needs"),
        ({"codescoring_trusted_ca_certificates": {"ca.pem": PEM}}, "codescoring_trusted_ca_certificates.ca.pem"),
        ({"codescoring_superuser_email": "admin"}, "codescoring_superuser_email"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    before = history(lab)[-1]["revision"]
    rc, stats, out = run(lab, tmp_path, variables(lab) | change)
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
    assert history(lab)[-1]["revision"] == before


def test_monitoring_needs_the_prometheus_operator_crds(lab, tmp_path):
    crds = {c["metadata"]["name"] for c in kubectl_json(lab, "get", "crd")["items"]}
    rc, stats, out = run(lab, tmp_path, variables(lab, codescoring_service_monitor=True), "--check")
    if "servicemonitors.monitoring.coreos.com" not in crds:
        assert rc != 0 and "servicemonitors.monitoring.coreos.com" in out and "codescoring_service_monitor" in out
        assert stats.get("changed", 0) == 0
    else:  # someone installed the Prometheus Operator's CRDs on the lab: the check lets the upgrade through
        assert rc == 0 and stats.get("changed") == 1, out[-4000:]


def test_no_secret_in_output_at_vvv(lab, tmp_path):
    change = {"codescoring_ingress_annotations": {"lab/leak-test": "1"}}
    for flags in (("-vvv", "--diff"), ("-vvv", "--check", "--diff")):
        rc, _stats, out = run(lab, tmp_path, variables(lab, **change), *flags)
        assert rc == 0, out[-4000:]
        assert "ESTABLISH LOCAL CONNECTION" in out
        assert leaked(out, lab["PASSWORD"], *SECRETS.values()) == []


def test_state_absent_removes_the_release_and_the_pull_secret(lab, tmp_path):
    gone = variables(lab, codescoring_state="absent")
    rc, stats, out = run(lab, tmp_path, gone)
    assert rc == 0 and stats.get("changed") == 2, out[-4000:]  # the release and the pull Secret
    assert helm(lab, "status", "codescoring", "-n", lab["NAMESPACE"]).returncode != 0
    assert kubectl(lab, "get", "secret", "codescoring-regcred", "-n", lab["NAMESPACE"]).returncode != 0
    assert kubectl(lab, "get", "deployment", "ipcs-backend", "-n", lab["NAMESPACE"]).returncode != 0
    assert kubectl(lab, "get", "pv", f"{lab['NAMESPACE']}-backup").returncode != 0, "the chart's local PV"
    assert kubectl(lab, "get", "namespace", lab["NAMESPACE"]).returncode == 0, "kept by default"
    rc, stats, out = run(lab, tmp_path, gone)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    rc, stats, out = run(lab, tmp_path, gone | {"codescoring_delete_namespace": True})
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert kubectl(lab, "get", "namespace", lab["NAMESPACE"]).returncode != 0
