"""roles/devstats on the lab's API server (kwok nodes; real helm) with the devstats fixture chart from a chart
directory, as from a checkout of cncf/devstats-helm, and against the lab's REAL Patroni cluster for the tweak.

A set of stages installs one release per stage with the skip flags and ranges the role computes; the three Secrets
hold the NAME.secret files' contents (keys keep the .secret suffix, the trailing newline dropped); the Patroni
dynamic configuration changes in Patroni's own REST API; the bootstrap pod is deleted once it has Succeeded (kwok
runs no container, so the test marks the pod Succeeded as its container would); a second run and --check change
nothing; adding a stage installs it and changing one upgrades it (shown first by --check --diff); a missing .secret
file and an unknown stage fail before any change; no secret shows at -vvv; state absent removes everything."""

import base64
import json
import threading
import time
import urllib.request
import uuid

import labenv
import pytest
import yaml
from apirun import helm, kubectl, kubectl_json, lab_api, run_role
from leaks import leaked
from rolerun import REPO

CHART_DIR = REPO / "tests" / "charts" / "devstats"
PREFIX = "dv"
SECRETS = {
    "pg-db": [
        "PG_ADMIN_USER",
        "PG_HOST",
        "PG_HOST_RO",
        "PG_PASS",
        "PG_PASS_RO",
        "PG_PASS_TEAM",
        "PG_PASS_REP",
        "PG_PORT",
        "PG_USER_RO",
    ],
    "github-oauth": ["GHA2DB_GITHUB_OAUTH"],
    "grafana-secret": ["GF_SECURITY_ADMIN_USER", "GF_SECURITY_ADMIN_PASSWORD"],
}
FIRST_STAGES = [
    "secrets",
    "backups-pv",
    "patroni",
    {"stage": "statics", "from": 0, "to": 1},
    {"stage": "ingress", "from": 0, "to": 1},
    "bootstrap",
]
SKIPS = [
    "Secrets",
    "PVs",
    "BackupsPV",
    "Vacuum",
    "Backups",
    "Bootstrap",
    "Provisions",
    "Crons",
    "Affiliations",
    "Grafanas",
    "Services",
    "Postgres",
    "Ingress",
    "Static",
    "API",
    "Namespaces",
]
NAPTIME = "%ds" % (61 + uuid.uuid4().int % 50)  # a reload-only parameter nothing else in the lab sets


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "dv")
    patroni = labenv.require("patroni")
    env["PATRONI_API_URL"] = patroni["PATRONI_API_URL"]
    env["PATRONI"] = labenv.read_env(patroni["PATRONI_SECRETS_FILE"])
    env["CLASSES"] = (env["NAMESPACE"] + "-hostpath", env["NAMESPACE"] + "-rwx")
    for name, provisioner in zip(
        env["CLASSES"], ("openebs.io/local", "cluster.local/nfs-server-provisioner"), strict=True
    ):
        sc = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": name},
            "provisioner": provisioner,
            "volumeBindingMode": "Immediate",
        }
        path = tmp_path_factory.mktemp("sc") / "sc.json"
        path.write_text(json.dumps(sc))
        kubectl(env, "apply", "-f", str(path), check=True)
    secrets_dir = tmp_path_factory.mktemp("secrets")
    env["SECRETS_DIR"] = secrets_dir
    env["VALUES"] = {}
    for names in SECRETS.values():
        for name in names:
            value = "5432" if name == "PG_PORT" else f"{name.lower()}-{uuid.uuid4().hex[:12]}"
            env["VALUES"][name] = value
            # An editor's trailing newline, except on one file: the Secret holds the value without it either way.
            (secrets_dir / f"{name}.secret").write_text(value if name == "PG_HOST" else value + "\n")
            (secrets_dir / f"{name}.secret.example").write_text(f"example-{name.lower()}\n")
    yield env
    patch_patroni(env, {"postgresql": {"parameters": {"autovacuum_naptime": None}}})
    listed = json.loads(helm(env, "list", "-n", env["NAMESPACE"], "-a", "-o", "json").stdout or "[]")
    for release in listed:
        helm(env, "uninstall", "-n", env["NAMESPACE"], release["name"], "--ignore-not-found")
    kubectl(env, "delete", "namespace", env["NAMESPACE"], "--ignore-not-found", "--wait=false")
    kubectl(env, "delete", "storageclass", *env["CLASSES"], "--ignore-not-found")


def patch_patroni(env, body):
    token = "%s:%s" % (env["PATRONI"]["PATRONI_REST_USERNAME"], env["PATRONI"]["PATRONI_REST_PASSWORD"])
    req = urllib.request.Request(  # noqa: S310 (loopback)
        env["PATRONI_API_URL"] + "/config",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(token.encode()).decode(),
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return json.load(resp)


def patroni_config(env):
    with urllib.request.urlopen(env["PATRONI_API_URL"] + "/config", timeout=10) as resp:  # noqa: S310 (loopback)
        return json.load(resp)


def variables(env, **extra):
    return {
        "devstats_env": "test",
        "devstats_namespace": env["NAMESPACE"],
        "devstats_release_prefix": PREFIX,
        "devstats_chart_source": "path",
        "devstats_chart_path": str(CHART_DIR),
        "devstats_secrets_dir": str(env["SECRETS_DIR"]),
        "devstats_stages": FIRST_STAGES,
        "devstats_storage_class": env["CLASSES"][0],
        "devstats_backups_storage_class": env["CLASSES"][1],
        # The lab's kwok nodes carry no DevStats labels: drop the chart's node selectors (null deletes a chart key).
        "devstats_values": {"dbNodeSelector": {"node2": None}, "appNodeSelector": {"node": None}},
        # Three members, as the lab's real Patroni cluster has, which the tweak talks to.
        "devstats_postgres_nodes": 3,
        "devstats_postgres_storage_size": "1Gi",
        "devstats_patroni_api_url": env["PATRONI_API_URL"],
        "devstats_patroni_username": env["PATRONI"]["PATRONI_REST_USERNAME"],
        "devstats_patroni_password": env["PATRONI"]["PATRONI_REST_PASSWORD"],
        "devstats_patroni_config": {"postgresql": {"parameters": {"autovacuum_naptime": NAPTIME}}},
        "devstats_patroni_wait_timeout": 120,
        "devstats_bootstrap_timeout": 180,
        "devstats_helm_timeout": "3m",
        "devstats_kubeconfig": env["KUBECONFIG"],
        "devstats_helm_binary": env["LAB_HELM"],
    } | extra


class BootstrapFinisher:
    """Plays the bootstrap container: once the pod runs, marks it Succeeded (kwok runs no container)."""

    def __init__(self, env):
        self.env = env
        self.stop = threading.Event()
        self.marked = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            pod = kubectl(
                self.env, "get", "pod", "devstats-provision-bootstrap", "-n", self.env["NAMESPACE"], "-o", "json"
            )
            if pod.returncode == 0 and json.loads(pod.stdout).get("status", {}).get("phase") == "Running":
                patch = {"status": {"phase": "Succeeded"}}
                res = kubectl(
                    self.env,
                    "patch",
                    "pod",
                    "devstats-provision-bootstrap",
                    "-n",
                    self.env["NAMESPACE"],
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    json.dumps(patch),
                )
                self.marked = self.marked or res.returncode == 0
            time.sleep(1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def releases(env):
    """{release: (status, revision)}."""
    listed = json.loads(helm(env, "list", "-n", env["NAMESPACE"], "-a", "-o", "json").stdout or "[]")
    return {r["name"]: (r["status"], int(r["revision"])) for r in listed}


def values_of(env, release):
    return yaml.safe_load(helm(env, "get", "values", release, "-n", env["NAMESPACE"], "-o", "yaml").stdout)


def names(env, kind):
    return sorted(i["metadata"]["name"] for i in kubectl_json(env, "get", kind, "-n", env["NAMESPACE"])["items"])


def kept(values):
    """The skip flags a release leaves off."""
    return sorted(f for f in SKIPS if values[f"skip{f}"] == 0)


def test_missing_secret_files_fail_before_any_change(lab, tmp_path):
    (lab["SECRETS_DIR"] / "PG_PASS.secret").rename(tmp_path / "PG_PASS.secret")
    (lab["SECRETS_DIR"] / "GF_SECURITY_ADMIN_USER.secret").rename(tmp_path / "GF_SECURITY_ADMIN_USER.secret")
    try:
        rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab))
    finally:
        for name in ("PG_PASS.secret", "GF_SECURITY_ADMIN_USER.secret"):
            (tmp_path / name).rename(lab["SECRETS_DIR"] / name)
    assert rc != 0, out[-3000:]
    assert stats.get("changed", 0) == 0
    assert "PG_PASS.secret (copy PG_PASS.secret.example" in out, out[-3000:]
    assert "GF_SECURITY_ADMIN_USER.secret (copy GF_SECURITY_ADMIN_USER.secret.example" in out
    assert "lacks 2 file(s)" in out
    assert kubectl(lab, "get", "namespace", lab["NAMESPACE"]).returncode != 0  # not even the namespace
    assert releases(lab) == {}


def test_unknown_stage_fails_naming_it(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab, devstats_stages=["secrets", "patorni"]))
    assert rc != 0 and "unknown stage 'patorni'" in out and "devstats_stages[1]" in out, out[-3000:]
    assert stats.get("changed", 0) == 0
    assert kubectl(lab, "get", "namespace", lab["NAMESPACE"]).returncode != 0


def test_stages_install_then_converge(lab, tmp_path):
    before = patroni_config(lab)["postgresql"]["parameters"].get("autovacuum_naptime")
    assert before != NAPTIME
    with BootstrapFinisher(lab) as finisher:
        rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab))
    assert rc == 0, out[-6000:]
    assert finisher.marked, "the bootstrap pod never ran"

    rel = releases(lab)
    wanted = {f"{PREFIX}-{n}" for n in ("backups-pv", "patroni", "statics", "ingress", "bootstrap")}
    assert set(rel) == wanted and all(s == ("deployed", 1) for s in rel.values()), rel
    patroni = values_of(lab, f"{PREFIX}-patroni")
    assert kept(patroni) == ["Postgres"]
    assert patroni["namespace"] == lab["NAMESPACE"] and patroni["postgresNodes"] == 3
    assert (patroni["requestsPostgresCPU"], patroni["requestsPostgresMemory"]) == ("400m", "512Mi")
    assert patroni["pgSecret"] == "pg-db" and patroni["sslEnv"] == "test"
    statics = values_of(lab, f"{PREFIX}-statics")
    assert kept(statics) == ["Static"]
    assert (statics["indexStaticsFrom"], statics["indexStaticsTo"]) == (0, 1)
    assert "requestsPostgresCPU" not in statics and statics["requestsStaticsCPU"] == "50m"
    ingress = values_of(lab, f"{PREFIX}-ingress")
    assert kept(ingress) == ["Ingress"]
    assert (ingress["indexDomainsFrom"], ingress["indexDomainsTo"], ingress["ingressClass"]) == (0, 1, "nginx-test")
    assert kept(values_of(lab, f"{PREFIX}-backups-pv")) == ["BackupsPV"]
    assert kept(values_of(lab, f"{PREFIX}-bootstrap")) == ["Bootstrap"]

    sts = kubectl_json(lab, "get", "statefulset", "devstats-postgres", "-n", lab["NAMESPACE"])
    assert sts["spec"]["replicas"] == 3
    assert "devstats-backups" in names(lab, "pvc")
    assert names(lab, "deployment") == ["devstats-static-default", "devstats-static-teststats-cncf-io"]
    ing = kubectl_json(lab, "get", "ingress", "devstats-ingress", "-n", lab["NAMESPACE"])
    assert ing["spec"]["ingressClassName"] == "nginx-test"
    assert ing["metadata"]["annotations"]["cert-manager.io/issuer"] == "letsencrypt-test"
    assert names(lab, "cronjob") == []  # the backups stage is not listed yet
    # The finished bootstrap pod is gone; no other pod of the chart but Patroni's and the statics'.
    assert "devstats-provision-bootstrap" not in names(lab, "pod")

    for secret, files in SECRETS.items():
        data = kubectl_json(lab, "get", "secret", secret, "-n", lab["NAMESPACE"])["data"]
        assert sorted(data) == sorted(f"{f}.secret" for f in files)
        for name in files:
            assert base64.b64decode(data[f"{name}.secret"]).decode() == lab["VALUES"][name], name

    assert patroni_config(lab)["postgresql"]["parameters"]["autovacuum_naptime"] == NAPTIME

    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])
    assert all(s == ("deployed", 1) for s in releases(lab).values())


def test_patroni_drift_is_put_back_then_left_alone(lab, tmp_path):
    patch_patroni(lab, {"postgresql": {"parameters": {"autovacuum_naptime": "59s"}}})
    rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert patroni_config(lab)["postgresql"]["parameters"]["autovacuum_naptime"] == NAPTIME
    rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def test_adding_and_changing_stages_upgrades(lab, tmp_path):
    stages = [
        *FIRST_STAGES[:3],
        {"stage": "statics", "from": 0, "to": 2},
        *FIRST_STAGES[4:],
        "backups",
        {"stage": "pvcs", "from": 0, "to": 2},  # the projects' git storage claims, which their pods mount
        {"stage": "projects", "name": "k8s-prom", "from": 0, "to": 2, "requests": {"provisions": {"cpu": "800m"}}},
    ]
    rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab, devstats_stages=stages), "--check", "--diff")
    assert rc == 0 and stats.get("changed", 0) >= 4, out[-4000:]
    assert "indexStaticsTo" in out, out[-4000:]
    assert f"{PREFIX}-backups" not in releases(lab)

    rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab, devstats_stages=stages))
    assert rc == 0 and stats.get("changed") == 4, out[-6000:]  # statics upgraded; backups, pvcs, k8s-prom installed
    rel = releases(lab)
    assert rel[f"{PREFIX}-statics"] == ("deployed", 2) and rel[f"{PREFIX}-pvcs"] == ("deployed", 1)
    assert rel[f"{PREFIX}-backups"] == ("deployed", 1) and rel[f"{PREFIX}-k8s-prom"] == ("deployed", 1)
    assert rel[f"{PREFIX}-patroni"] == ("deployed", 1)
    assert values_of(lab, f"{PREFIX}-statics")["indexStaticsTo"] == 2
    projects = values_of(lab, f"{PREFIX}-k8s-prom")
    assert kept(projects) == ["Affiliations", "Crons", "Grafanas", "Provisions", "Services"]
    assert (projects["indexProvisionsFrom"], projects["indexCronsTo"]) == (0, 2)
    assert projects["requestsProvisionsCPU"] == "800m" and projects["requestsProvisionsMemory"] == "256Mi"
    assert "devstats-static-devstats-cncf-io" in names(lab, "deployment")
    cronjobs = names(lab, "cronjob")
    assert "devstats-backups" in cronjobs and "devstats-kubernetes" in cronjobs and "devstats-prometheus" in cronjobs
    assert "devstats-cncf" not in cronjobs  # index 2 is outside the range
    pods = names(lab, "pod")
    assert "devstats-provision-kubernetes" in pods and "devstats-provision-cncf" not in pods

    rc, stats, out = run_role(lab, tmp_path, "devstats", variables(lab, devstats_stages=stages))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def test_no_secret_in_vvv_output(lab, tmp_path):
    """A changed secret file and a Patroni change at -vvv --diff: no secret value, REST password or form of them."""
    lab["VALUES"]["PG_PASS"] = "pg-pass-" + uuid.uuid4().hex[:12]
    (lab["SECRETS_DIR"] / "PG_PASS.secret").write_text(lab["VALUES"]["PG_PASS"] + "\n")
    patch_patroni(lab, {"postgresql": {"parameters": {"autovacuum_naptime": "58s"}}})
    rc, _stats, out = run_role(lab, tmp_path, "devstats", variables(lab), "-vvv", "--diff")
    assert rc == 0, out[-4000:]
    assert patroni_config(lab)["postgresql"]["parameters"]["autovacuum_naptime"] == NAPTIME  # put back
    assert "PG_PASS.secret" in out  # the key name is shown, its value never
    rest = lab["PATRONI"]
    values = [*lab["VALUES"].values(), rest["PATRONI_REST_PASSWORD"]]
    values.append("%s:%s" % (rest["PATRONI_REST_USERNAME"], rest["PATRONI_REST_PASSWORD"]))
    assert leaked(out, *[v for v in values if v != "5432"]) == []
    data = kubectl_json(lab, "get", "secret", "pg-db", "-n", lab["NAMESPACE"])["data"]
    assert base64.b64decode(data["PG_PASS.secret"]).decode() == lab["VALUES"]["PG_PASS"]


def test_state_absent_removes_everything(lab, tmp_path):
    stages = [
        *FIRST_STAGES,
        "backups",
        {"stage": "pvcs", "from": 0, "to": 2},
        {"stage": "projects", "name": "k8s-prom", "from": 0, "to": 2},
    ]
    rc, stats, out = run_role(
        lab, tmp_path, "devstats", variables(lab, devstats_stages=stages, devstats_state="absent")
    )
    assert rc == 0 and stats.get("changed", 0) >= 7, out[-4000:]
    assert releases(lab) == {}
    assert [s for s in names(lab, "secret") if s in SECRETS] == []
    assert names(lab, "statefulset") == [] and names(lab, "deployment") == [] and names(lab, "cronjob") == []
    assert names(lab, "ingress") == []
    rc, stats, out = run_role(
        lab, tmp_path, "devstats", variables(lab, devstats_stages=stages, devstats_state="absent")
    )
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
