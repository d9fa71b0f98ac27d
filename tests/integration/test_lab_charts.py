"""The fixture charts (tests/charts) on the lab's real API server, installed the way users install the vendor charts.

Each chart comes from the lab's basic-auth HTTP chart repo with its ci/valid-values.yaml
(`helm upgrade --install --create-namespace --wait --wait-for-jobs --atomic`), after the objects a user creates
first (Secrets, claims, node labels). Then the API must hold the objects that matter, every Secret, claim and
ServiceAccount the workloads name must exist (kwok starts pods without checking, a kubelet would not), each
tests/invalid-*.yaml must fail with its `# expect:` text and leave nothing behind, `helm diff` must see no change
for a second run with the same values, and uninstall must remove the release. One chart also comes from the OCI
registry, and DevStats is also installed in stages (one release per part) as its README does.

The lab has no load-balancer controller, so `LoadBalancerStandin` (apirun) plays MetalLB's controller: it gives
LoadBalancer Services an address from the IPAddressPool they name (`metallb.io/address-pool`), or from an
auto-assign pool; without one they stay pending as with MetalLB.
"""

import base64
import ipaddress
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import labenv
import pytest
import yaml
from apirun import LoadBalancerStandin

pytestmark = pytest.mark.lab  # the lab's own tests: their own tier (make lab-test), they bring parts up

REPO = labenv.REPO
CHARTS_DIR = REPO / "tests/charts"
PREFIX = "charts-it-"
REPO_NAME = "lab-charts"
TIMEOUT = "180s"
CHART_CRD_GROUPS = ("cert-manager.io", "metallb.io", "operator.tigera.io")
POOL = "10.77.0.240/28"  # addresses on the lab bridge's /24; only written into Service status, never used


@dataclass(frozen=True)
class Case:
    directory: str
    release: str
    namespace: str

    @property
    def meta(self) -> dict:
        return yaml.safe_load((CHARTS_DIR / self.directory / "Chart.yaml").read_text())

    @property
    def values(self) -> Path:
        return CHARTS_DIR / self.directory / "ci" / "valid-values.yaml"

    def __str__(self) -> str:
        return self.directory


# Install order: storage first (later claims bind), then the CRD owners, then the apps. DevStats runs its own
# ingress controller in its namespace, so the two share it.
CASES = [
    Case("openebs", "openebs", PREFIX + "openebs"),
    Case("nfs-server-provisioner", "nfs-server-provisioner", PREFIX + "nfs"),
    Case("cert-manager", "cert-manager", PREFIX + "cert-manager"),
    Case("metallb", "metallb", PREFIX + "metallb"),
    Case("tigera-operator", "calico", PREFIX + "tigera"),
    Case("ingress-nginx", "nginx-ingress-test", PREFIX + "devstats"),
    Case("exadeploy", "exadeploy", PREFIX + "exadeploy"),
    Case("cvat", "cvat", PREFIX + "cvat"),
    Case("codescoring", "codescoring", PREFIX + "codescoring"),
    Case("devstats", "devstats-test", PREFIX + "devstats"),
]
BY_DIR = {c.directory: c for c in CASES}
# Nodes DevStats schedules on (upstream: label nodes node=devstats-app and node2=devstats-db first).
DEVSTATS_NODE_LABELS = {"node": "devstats-app", "node2": "devstats-db"}
DEVSTATS_NODES = ["node-0", "node-1", "node-2"]


class Lab:
    """helm and kubectl against the lab, with a private helm repository config and cache."""

    def __init__(self, env: dict, home: Path):
        self.env = env
        self.run_env = {
            **os.environ,
            "KUBECONFIG": env["KUBECONFIG"],
            "HELM_PLUGINS": env["HELM_PLUGINS"],
            "HELM_BIN": env["LAB_HELM"],
            "HELM_REPOSITORY_CONFIG": str(home / "repositories.yaml"),
            "HELM_REPOSITORY_CACHE": str(home / "repository-cache"),
            "HELM_REGISTRY_CONFIG": str(home / "registry.json"),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
        }
        self.run_env.pop("HELM_NAMESPACE", None)

    def _run(self, cmd: list, stdin: str | None, check: bool, timeout: int) -> subprocess.CompletedProcess:
        res = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, env=self.run_env, timeout=timeout, check=False
        )
        if check and res.returncode != 0:
            raise AssertionError(
                f"{Path(cmd[0]).name} {' '.join(cmd[1:])} failed ({res.returncode}):\n"
                f"{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
            )
        return res

    def helm(self, *args: str, stdin: str | None = None, check: bool = True, timeout: int = 300):
        return self._run([self.env["LAB_HELM"], *args], stdin, check, timeout)

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True, timeout: int = 120):
        return self._run([self.env["LAB_KUBECTL"], *args], stdin, check, timeout)

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def exists(self, *args: str) -> bool:
        return self.kubectl("get", "-o", "name", *args, check=False).returncode == 0

    def apply(self, manifest, namespace: str | None = None, dry_run: bool = False, check: bool = True):
        args = ["create" if dry_run else "apply", "-f", "-"] + (["--dry-run=server"] if dry_run else [])
        args += ["-n", namespace] if namespace else []
        docs = [manifest] if isinstance(manifest, dict) else manifest
        text = manifest if isinstance(manifest, str) else yaml.safe_dump_all(docs)
        return self.kubectl(*args, stdin=text, check=check)

    def wait(self, condition: str, target: str, namespace: str | None = None, timeout: int = 120):
        args = ["wait", f"--for={condition}", target, f"--timeout={timeout}s"]
        args += ["-n", namespace] if namespace else []
        self.kubectl(*args, timeout=timeout + 30)

    def crd_names(self) -> set:
        return {c["metadata"]["name"] for c in self.get("crd")["items"] if c["spec"]["group"] in CHART_CRD_GROUPS}


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    env = labenv.up("controlplane", "helm", "sources")
    lab = Lab(env, tmp_path_factory.mktemp("helm"))
    password = Path(env["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    lab.helm(
        "repo",
        "add",
        REPO_NAME,
        env["LAB_CHART_REPO_URL"],
        "--username",
        env["LAB_CHART_REPO_USER"],
        "--password-stdin",
        stdin=password,
    )
    lab.helm("repo", "update", REPO_NAME)
    return lab


@pytest.fixture(scope="module")
def cluster(lab):
    """The lab while the tests run; afterwards every trace of them is removed (the lab keeps running)."""
    crds_before = lab.crd_names()
    state = {"labelled": [], "cluster_objects": []}
    standin = LoadBalancerStandin(lab.env, [])  # every namespace
    standin.start()
    yield state
    standin.stop()
    cleanup(lab, state, crds_before)


def cleanup(lab: Lab, state: dict, crds_before: set) -> None:
    releases = json.loads(lab.helm("list", "--all-namespaces", "--all", "-o", "json").stdout)
    for rel in releases:
        if rel["namespace"].startswith(PREFIX):
            lab.helm("uninstall", rel["name"], "-n", rel["namespace"], "--wait", "--timeout", "120s", check=False)
    for obj in state["cluster_objects"]:
        lab.kubectl("delete", obj, "--ignore-not-found", check=False)
    namespaces = [
        n["metadata"]["name"] for n in lab.get("namespaces")["items"] if n["metadata"]["name"].startswith(PREFIX)
    ]
    if namespaces:
        lab.kubectl("delete", "namespace", *namespaces, "--wait=true", "--timeout=150s", check=False, timeout=180)
    # CRDs the charts left on purpose (helm.sh/resource-policy: keep, crds/ directories) would block a later
    # install of the same chart under another release namespace.
    for crd in lab.get("crd")["items"]:
        name, ann = crd["metadata"]["name"], crd["metadata"].get("annotations") or {}
        ours = ann.get("meta.helm.sh/release-namespace", PREFIX).startswith(PREFIX)  # no annotation: crds/ directory
        if crd["spec"]["group"] in CHART_CRD_GROUPS and name not in crds_before and ours:
            lab.kubectl("delete", "crd", name, "--ignore-not-found", check=False)
    for node, key in state["labelled"]:
        lab.kubectl("label", "node", node, f"{key}-", check=False)


def secret(name: str, data: dict, kind: str = "Opaque") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": kind,
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def claim(name: str, size: str, storage_class: str | None = "openebs-hostpath", access: str = "ReadWriteOnce"):
    spec = {"accessModes": [access], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


# --- what a user creates before installing each chart -------------------------------------------------------------


def prepare_exadeploy(lab: Lab, case: Case, state: dict) -> None:
    lab.apply(
        [
            secret("exafunction-api-key", {"api_key": "lab-exa-key"}),
            secret("exadeploy-postgres", {"postgres_password": "lab-exa-db"}),
            secret("exadeploy-aws", {"access_key": "lab-access", "secret_key": "lab-secret"}),
        ],
        case.namespace,
    )


def prepare_codescoring(lab: Lab, case: Case, state: dict) -> None:
    auths = json.dumps({"auths": {"registry-one.codescoring.ru": {"auth": "bGFiOmxhYg=="}}})
    media = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "codescoring-media"},
        "spec": {
            "capacity": {"storage": "20Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "",
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": "/var/lib/codescoring/media", "type": "DirectoryOrCreate"},
        },
    }
    state["cluster_objects"].append("persistentvolume/codescoring-media")
    lab.apply(media)
    lab.apply(
        [
            secret("codescoring-regcred", {".dockerconfigjson": auths}, "kubernetes.io/dockerconfigjson"),
            claim("codescoring-pg", "20Gi"),
            claim("codescoring-static", "20Gi"),
        ],
        case.namespace,
    )


def prepare_devstats(lab: Lab, case: Case, state: dict) -> None:
    for node in DEVSTATS_NODES:
        labels = lab.get("node", node)["metadata"]["labels"]
        for key, value in DEVSTATS_NODE_LABELS.items():
            if labels.get(key) != value:
                lab.kubectl("label", "node", node, f"{key}={value}", "--overwrite")
                state["labelled"].append((node, key))


PREPARE = {"exadeploy": prepare_exadeploy, "codescoring": prepare_codescoring, "devstats": prepare_devstats}


# --- generic checks -------------------------------------------------------------------------------------------------


def owned(obj: dict, case: Case) -> bool:
    ann = obj["metadata"].get("annotations") or {}
    return (
        ann.get("meta.helm.sh/release-name") == case.release
        and ann.get("meta.helm.sh/release-namespace") == case.namespace
    )


def release_objects(lab: Lab, case: Case, kinds: str) -> list:
    return [o for o in lab.get(kinds, "-n", case.namespace)["items"] if owned(o, case)]


def workload_problems(workloads: list) -> list:
    problems = []
    for w in workloads:
        name, status, kind = w["metadata"]["name"], w["status"], w["kind"]
        if kind == "Deployment":
            available = [c for c in status.get("conditions", []) if c["type"] == "Available"]
            if not (available and available[0]["status"] == "True"):
                problems.append(f"Deployment {name} not Available: {available}")
        elif kind == "StatefulSet":
            if status.get("readyReplicas", 0) != w["spec"]["replicas"]:
                problems.append(f"StatefulSet {name}: {status}")
        elif not 0 < status.get("numberReady", 0) == status["desiredNumberScheduled"]:
            problems.append(f"DaemonSet {name}: {status}")
    return problems


def assert_workloads_ready(lab: Lab, case: Case, settle: float = 60) -> list:
    """All workloads ready. helm --wait counts ready replicas; the Deployment controller sets the Available
    condition a moment later, so allow it to settle (bounded) before judging."""
    deadline = time.monotonic() + settle
    while True:
        workloads = release_objects(lab, case, "deployments,statefulsets,daemonsets")
        problems = workload_problems(workloads)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not problems, "; ".join(problems)
    return workloads


def pod_specs(lab: Lab, case: Case) -> dict:
    specs = {}
    for obj in release_objects(lab, case, "deployments,statefulsets,daemonsets,jobs,cronjobs,pods"):
        spec = obj["spec"]
        if obj["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        specs[f"{obj['kind']}/{obj['metadata']['name']}"] = spec.get("template", {}).get("spec", spec)
    return specs


def required(ref: dict | None, known) -> bool:
    """True when a non-optional reference names something missing."""
    return bool(ref) and not ref.get("optional") and ref.get("name", ref.get("secretName")) not in known


def assert_references_resolve(lab: Lab, case: Case) -> None:
    """Every Secret (and key), ConfigMap, claim and ServiceAccount a pod template names exists, as a kubelet needs."""
    ns = case.namespace
    secrets = {s["metadata"]["name"]: set(s.get("data") or {}) for s in lab.get("secrets", "-n", ns)["items"]}
    configmaps = {c["metadata"]["name"] for c in lab.get("configmaps", "-n", ns)["items"]}
    claims = {c["metadata"]["name"]: c["status"].get("phase") for c in lab.get("pvc", "-n", ns)["items"]}
    accounts = {a["metadata"]["name"] for a in lab.get("serviceaccounts", "-n", ns)["items"]}
    problems = []
    for owner, spec in pod_specs(lab, case).items():
        if spec.get("serviceAccountName", "default") not in accounts:
            problems.append(f"{owner}: serviceAccount {spec['serviceAccountName']} missing")
        problems += [
            f"{owner}: imagePullSecret {r['name']} missing"
            for r in spec.get("imagePullSecrets", [])
            if required(r, secrets)
        ]
        for vol in spec.get("volumes", []):
            if required(vol.get("secret"), secrets) or required(vol.get("configMap"), configmaps):
                problems.append(f"{owner}: volume {vol['name']} names a missing Secret/ConfigMap")
            elif vol.get("secret") and not vol["secret"].get("optional"):
                keys = secrets.get(vol["secret"]["secretName"], set())
                problems += [
                    f"{owner}: volume {vol['name']} needs Secret {vol['secret']['secretName']} key {item['key']}"
                    for item in vol["secret"].get("items", [])
                    if item["key"] not in keys
                ]
            if "persistentVolumeClaim" in vol:
                name = vol["persistentVolumeClaim"]["claimName"]
                if claims.get(name) != "Bound":
                    problems.append(f"{owner}: claim {name} is {claims.get(name, 'missing')}")
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            for env in container.get("env", []):
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional") and ref["key"] not in secrets.get(ref["name"], set()):
                    problems.append(f"{owner}: env {env['name']} needs Secret {ref['name']} key {ref['key']}")
                if required((env.get("valueFrom") or {}).get("configMapKeyRef"), configmaps):
                    problems.append(f"{owner}: env {env['name']} needs a missing ConfigMap")
            for src in container.get("envFrom", []):
                if required(src.get("secretRef"), secrets) or required(src.get("configMapRef"), configmaps):
                    problems.append(f"{owner}: envFrom {src} names a missing Secret/ConfigMap")
    assert not problems, "\n".join(problems)


# --- what matters per chart -----------------------------------------------------------------------------------------


def check_openebs(lab: Lab, case: Case) -> None:
    sc = lab.get("storageclass", "openebs-hostpath")
    assert sc["provisioner"] == "openebs.io/local"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert "/var/openebs/local" in sc["metadata"]["annotations"]["cas.openebs.io/config"]
    # the API server now gives class-less claims this class
    res = lab.kubectl(
        "create",
        "--dry-run=server",
        "-o",
        "json",
        "-n",
        case.namespace,
        "-f",
        "-",
        stdin=yaml.safe_dump(claim("default-class-probe", "1Gi", storage_class=None)),
    )
    assert json.loads(res.stdout)["spec"]["storageClassName"] == "openebs-hostpath"


def check_nfs_server_provisioner(lab: Lab, case: Case) -> None:
    sc = lab.get("storageclass", "nfs-openebs-localstorage")
    assert sc["provisioner"] == "cluster.local/nfs-server-provisioner"
    data = lab.get("pvc", "data-nfs-server-provisioner-0", "-n", case.namespace)
    assert (data["spec"]["storageClassName"], data["status"]["phase"]) == ("openebs-hostpath", "Bound")
    assert data["status"]["capacity"]["storage"] == "8Gi"
    lab.apply(claim("rwx-probe", "1Gi", "nfs-openebs-localstorage", "ReadWriteMany"), case.namespace)
    lab.wait("jsonpath={.status.phase}=Bound", "pvc/rwx-probe", case.namespace, timeout=60)
    lab.kubectl("delete", "pvc", "rwx-probe", "-n", case.namespace)


def check_cert_manager(lab: Lab, case: Case) -> None:
    for crd in ("certificates", "issuers", "clusterissuers"):
        lab.wait("condition=Established", f"crd/{crd}.cert-manager.io")
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": PREFIX + "selfsigned"},
        "spec": {"selfSigned": {}},
    }
    lab.apply(issuer)
    try:
        assert lab.get("clusterissuer", PREFIX + "selfsigned")["spec"] == {"selfSigned": {}}
    finally:
        lab.kubectl("delete", "clusterissuer", PREFIX + "selfsigned")
    bad = {**issuer, "spec": {"acme": {"email": "admin@lab.local", "privateKeySecretRef": {"name": "acme"}}}}
    res = lab.apply(bad, dry_run=True, check=False)
    assert res.returncode != 0 and "spec.acme.server" in res.stderr, res.stderr


def check_metallb(lab: Lab, case: Case) -> None:
    for crd in ("ipaddresspools.metallb.io", "l2advertisements.metallb.io"):
        lab.wait("condition=Established", f"crd/{crd}")
        assert owned(lab.get("crd", crd), case), f"{crd} belongs to the release, as upstream's crds subchart"
    pool = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "test"},
        "spec": {"addresses": [POOL], "autoAssign": False},
    }
    l2 = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "L2Advertisement",
        "metadata": {"name": "test"},
        "spec": {"ipAddressPools": ["test"]},
    }
    lab.apply([pool, l2], case.namespace)
    assert lab.get("ipaddresspool", "test", "-n", case.namespace)["spec"]["avoidBuggyIPs"] is False  # CRD default
    res = lab.apply(
        {**pool, "metadata": {"name": "bad"}, "spec": {"autoAssign": True}}, case.namespace, dry_run=True, check=False
    )
    assert res.returncode != 0 and "spec.addresses" in res.stderr, res.stderr


def check_tigera_operator(lab: Lab, case: Case) -> None:
    lab.wait("condition=Established", "crd/installations.operator.tigera.io")
    installation = lab.get("installation", "default")
    assert installation["spec"]["calicoNetwork"]["ipPools"][0]["cidr"] == "192.168.0.0/16"
    probe = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": {"name": PREFIX + "probe"},
        "spec": {"calicoNetwork": {"ipPools": [{"cidr": "10.244.0.0/16", "encapsulation": "VXLAN"}]}},
    }
    lab.apply(probe, dry_run=True)
    probe["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] = "GRE"
    res = lab.apply(probe, dry_run=True, check=False)
    assert res.returncode != 0 and "encapsulation" in res.stderr, res.stderr


def check_ingress_nginx(lab: Lab, case: Case) -> None:
    assert lab.get("ingressclass", "nginx-test")["spec"]["controller"] == "k8s.io/ingress-nginx-test"
    svc = lab.get("service", f"{case.release}-ingress-nginx-controller", "-n", case.namespace)
    assert svc["spec"]["type"] == "LoadBalancer"
    address = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(POOL), "address from the pool the Service names"


def check_cvat(lab: Lab, case: Case) -> None:
    job = lab.get("job", f"{case.release}-backend-initializer-r1", "-n", case.namespace)
    assert job["status"].get("succeeded") == 1, "--wait-for-jobs waited for the initializer"
    data = lab.get("pvc", "cvat-backend-data", "-n", case.namespace)
    assert (data["status"]["phase"], data["spec"]["resources"]["requests"]["storage"]) == ("Bound", "5Gi")
    assert data["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert data["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", "the data outlives the release"
    ingress = lab.get("ingress", "cvat", "-n", case.namespace)
    assert (ingress["spec"]["ingressClassName"], ingress["spec"]["rules"][0]["host"]) == ("nginx", "cvat.lab.local")


def check_codescoring(lab: Lab, case: Case) -> None:
    claims = {c["metadata"]["name"]: c for c in lab.get("pvc", "-n", case.namespace)["items"]}
    for name in ("analysis-root", "media-root", "backup", "codescoring-pg", "codescoring-static"):
        assert claims[name]["status"]["phase"] == "Bound", name
    assert claims["analysis-root"]["spec"]["storageClassName"] == "openebs-hostpath"
    assert claims["media-root"]["spec"]["volumeName"] == "codescoring-media"
    backup_pv = lab.get("pv", claims["backup"]["spec"]["volumeName"])
    assert backup_pv["spec"]["local"]["path"] == "/var/lib/codescoring/backup"
    assert lab.get("ingress", "-n", case.namespace)["items"], "the frontend Ingress"


def check_devstats(lab: Lab, case: Case) -> None:
    sts = lab.get("statefulset", "devstats-postgres", "-n", case.namespace)
    assert sts["status"].get("readyReplicas") == 3
    nodes = set()
    for ordinal in range(3):
        pvc = lab.get("pvc", f"pgdata-devstats-postgres-{ordinal}", "-n", case.namespace)
        assert (pvc["status"]["phase"], pvc["spec"]["storageClassName"]) == ("Bound", "openebs-hostpath")
        nodes.add(lab.get("pod", f"devstats-postgres-{ordinal}", "-n", case.namespace)["spec"]["nodeName"])
    assert len(nodes) == 3, "anti-affinity spreads the Patroni members"
    backups = lab.get("pvc", "devstats-backups", "-n", case.namespace)
    assert (backups["status"]["phase"], backups["spec"]["accessModes"]) == ("Bound", ["ReadWriteMany"])
    ingress = lab.get("ingress", "devstats-ingress", "-n", case.namespace)
    assert lab.exists("ingressclass", ingress["spec"]["ingressClassName"]), "served by the namespace's controller"


CHECKS = {
    "openebs": check_openebs,
    "nfs-server-provisioner": check_nfs_server_provisioner,
    "cert-manager": check_cert_manager,
    "metallb": check_metallb,
    "tigera-operator": check_tigera_operator,
    "ingress-nginx": check_ingress_nginx,
    "cvat": check_cvat,
    "codescoring": check_codescoring,
    "devstats": check_devstats,
}


def namespace_args(case: Case) -> list:
    """DevStats' chart, like upstream's, puts its objects in .Values.namespace rather than the release namespace."""
    return ["--set", f"namespace={case.namespace}"] if case.directory == "devstats" else []


def install_args(case: Case, chart: str, *extra: str, wait: bool = True) -> list:
    waiting = ["--wait", "--wait-for-jobs", "--atomic", "--timeout", TIMEOUT] if wait else []
    return [
        "upgrade",
        "--install",
        case.release,
        chart,
        "--version",
        str(case.meta["version"]),
        "--namespace",
        case.namespace,
        "--create-namespace",
        "--values",
        str(case.values),
        *namespace_args(case),
        *waiting,
        *extra,
    ]


def repo_chart(case: Case) -> str:
    return f"{REPO_NAME}/{case.meta['name']}"


def assert_deployed(lab: Lab, case: Case, revision: int) -> None:
    listed = lab.helm("list", "-n", case.namespace, "--filter", f"^{case.release}$", "--all", "-o", "json").stdout
    release = {(r["status"], r["revision"], r["chart"]) for r in json.loads(listed)}
    assert release == {("deployed", str(revision), f"{case.meta['name']}-{case.meta['version']}")}


# --- tests ----------------------------------------------------------------------------------------------------------


def test_every_chart_is_covered():
    assert {p.parent.name for p in CHARTS_DIR.glob("*/Chart.yaml")} == set(BY_DIR)


def test_chart_repo_needs_credentials(lab, tmp_path):
    res = lab.helm(
        "repo",
        "add",
        "anonymous",
        lab.env["LAB_CHART_REPO_URL"],
        "--repository-config",
        str(tmp_path / "repos.yaml"),
        check=False,
    )
    assert res.returncode != 0 and "401" in res.stderr, res.stderr
    listed = lab.helm("search", "repo", f"{REPO_NAME}/", "-o", "json").stdout
    assert {c["name"] for c in json.loads(listed)} == {repo_chart(c) for c in CASES}


# Charts with fixed cluster-scoped names (CRDs, StorageClasses, IngressClass, Installation): one release per lab.
CLUSTER_WIDE = {"openebs", "nfs-server-provisioner", "cert-manager", "metallb", "tigera-operator", "ingress-nginx"}


def assert_no_foreign_release(lab: Lab, case: Case) -> None:
    releases = json.loads(lab.helm("list", "--all-namespaces", "--all", "-o", "json").stdout)
    others = [
        f"{r['name']} in {r['namespace']}"
        for r in releases
        if r["chart"].startswith(f"{case.meta['name']}-") and not r["namespace"].startswith(PREFIX)
    ]
    assert not others, (
        f"the lab already runs {case.directory} ({', '.join(others)}): its cluster-wide objects "
        "would collide with this test's; uninstall it first"
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_install_from_chart_repo(lab, cluster, case):
    if case.directory in CLUSTER_WIDE:
        assert_no_foreign_release(lab, case)
    if case.directory in PREPARE:
        lab.kubectl("create", "namespace", case.namespace, check=False)
        PREPARE[case.directory](lab, case, cluster)
    lab.helm(*install_args(case, repo_chart(case)), timeout=240)
    assert_deployed(lab, case, 1)
    assert assert_workloads_ready(lab, case), "the release runs workloads"
    assert_references_resolve(lab, case)
    if case.directory in CHECKS:
        CHECKS[case.directory](lab, case)


def test_install_from_oci_registry(lab, cluster):
    case = Case("cvat", "cvat", PREFIX + "cvat-oci")
    chart = f"{lab.env['LAB_OCI_CHARTS_URL']}/{case.meta['name']}"
    lab.helm(*install_args(case, chart, "--plain-http"), timeout=240)
    assert_deployed(lab, case, 1)
    assert_workloads_ready(lab, case)
    check_cvat(lab, case)
    lab.helm("uninstall", case.release, "-n", case.namespace, "--wait")
    assert not release_objects(lab, case, "deployments,statefulsets,services,secrets,jobs")


# The parts DevStats installs one release at a time: every skip flag of the chart but the per-secret ones
# (skip<Name>Secret) and skipAddAll.
DEVSTATS_SKIPS = [
    key
    for key in yaml.safe_load((CHARTS_DIR / "devstats" / "values.yaml").read_text())
    if key.startswith("skip") and key != "skipAddAll" and not key.endswith("Secret")
]


def test_devstats_staged_releases(lab, cluster):
    """DevStats' README installs it in stages, one release each (all parts skipped but one), in one namespace."""
    namespace = PREFIX + "devstats-staged"

    def stage(keep: str, *extra: str, check: bool = True, wait: bool = True):
        case = Case("devstats", f"devstats-test-{keep.removeprefix('skip').lower()}", namespace)
        flags = ",".join(f"{flag}=1" for flag in DEVSTATS_SKIPS if flag != keep)
        args = install_args(case, repo_chart(case), "--set", flags + ",reportsPod=0", *extra, wait=wait)
        return case, lab.helm(*args, check=check, timeout=240)

    for keep in ("skipSecrets", "skipPostgres"):
        case = stage(keep)[0]
        assert_workloads_ready(lab, case)
        assert_references_resolve(lab, case)
    # Claims alone never bind on openebs-hostpath (WaitForFirstConsumer), so this stage cannot --wait.
    res = stage("skipPVs", "--timeout", "5s", check=False)[1]
    assert res.returncode != 0 and "context deadline exceeded" in res.stderr, res.stderr
    claims = stage("skipPVs", wait=False)[0]
    assert {c["status"]["phase"] for c in release_objects(lab, claims, "pvc")} == {"Pending"}
    case = stage("skipProvisions")[0]
    assert_references_resolve(lab, case)  # the provisioning pods bound the claims of the previous stage
    assert {c["status"]["phase"] for c in release_objects(lab, claims, "pvc")} == {"Bound"}
    for release in json.loads(lab.helm("list", "-n", namespace, "-o", "json").stdout):
        lab.helm("uninstall", release["name"], "-n", namespace, "--wait")


def invalid_cases():
    for case in CASES:
        for path in sorted((CHARTS_DIR / case.directory / "tests").glob("invalid-*.yaml")):
            yield pytest.param(case, path, id=f"{case.directory}/{path.stem}")


@pytest.mark.parametrize("case,path", list(invalid_cases()))
def test_invalid_values_fail_and_leave_nothing(lab, cluster, case, path):
    expect = re.match(r"#\s*expect:\s*(.+)$", path.read_text().splitlines()[0])
    assert expect, f"{path} must start with '# expect: TEXT'"
    target = Case(case.directory, case.release, f"{PREFIX}invalid-{case.directory}")
    crds = lab.crd_names()
    args = install_args(target, repo_chart(case))
    args[args.index("--values") + 1] = str(path)
    res = lab.helm(*args, check=False, timeout=240)
    assert res.returncode != 0, f"{path.name} installed but must fail"
    assert expect.group(1).strip() in res.stderr, res.stderr
    releases = json.loads(lab.helm("list", "-n", target.namespace, "--all", "-o", "json").stdout)
    assert releases == []
    assert not lab.exists("namespace", target.namespace), "nothing was created, not even the namespace"
    assert lab.crd_names() == crds


# cvat names its initializer Job after the revision (upstream does, so every upgrade runs migrations again).
EXPECTED_CHANGES = {
    "cvat": {
        ("charts-it-cvat, cvat-backend-initializer-r1, Job (batch)", "been removed"),
        ("charts-it-cvat, cvat-backend-initializer-r2, Job (batch)", "been added"),
    },
}
DIFF_HEADER = re.compile(r"^(.+) has (been added|been removed|changed):$", re.M)


def diff(lab: Lab, case: Case, *extra: str) -> tuple:
    res = lab.helm(
        "diff",
        "upgrade",
        case.release,
        repo_chart(case),
        "--version",
        str(case.meta["version"]),
        "--namespace",
        case.namespace,
        "--values",
        str(case.values),
        *namespace_args(case),
        "--detailed-exitcode",
        *extra,
        check=False,
    )
    assert res.returncode in (0, 2), res.stderr
    return res.returncode, set(DIFF_HEADER.findall(res.stdout)), res.stdout


@pytest.mark.parametrize("case", CASES, ids=str)
def test_second_run_changes_nothing(lab, cluster, case):
    expected = EXPECTED_CHANGES.get(case.directory, set())
    code, changes, text = diff(lab, case)
    assert changes == expected, text
    assert code == (2 if expected else 0), text
    lab.helm(*install_args(case, repo_chart(case)), timeout=240)
    assert_deployed(lab, case, 2)
    assert_workloads_ready(lab, case)
    assert_references_resolve(lab, case)


def test_diff_reports_a_changed_value(lab, cluster):
    case = BY_DIR["openebs"]
    code, changes, text = diff(lab, case, "--set", "localpv-provisioner.hostpathClass.isDefaultClass=false")
    assert code == 2
    assert changes == {(f"{case.namespace}, openebs-hostpath, StorageClass (storage.k8s.io)", "changed")}, text
    assert '-     storageclass.kubernetes.io/is-default-class: "true"' in text


CLUSTER_KINDS = "clusterroles,clusterrolebindings,storageclasses,ingressclasses,persistentvolumes,crd"
NAMESPACED_KINDS = (
    "deployments,statefulsets,daemonsets,services,configmaps,secrets,serviceaccounts,roles,"
    "rolebindings,jobs,cronjobs,pods,ingresses,persistentvolumeclaims,endpoints"
)
# helm.sh/resource-policy: keep, as upstream: cert-manager's CRDs (crds.keep) and CVAT's data claim
KEPT = {
    "cert-manager": {"certificates.cert-manager.io", "issuers.cert-manager.io", "clusterissuers.cert-manager.io"},
    "cvat": {"PersistentVolumeClaim/cvat-backend-data"},
}


@pytest.mark.parametrize("case", list(reversed(CASES)), ids=str)
def test_uninstall_removes_the_release(lab, cluster, case):
    lab.helm("uninstall", case.release, "-n", case.namespace, "--wait", "--timeout", TIMEOUT, timeout=240)
    res = lab.helm("status", case.release, "-n", case.namespace, check=False)
    assert res.returncode != 0 and "not found" in res.stderr
    assert not lab.get("secrets", "-n", case.namespace, "-l", f"owner=helm,name={case.release}")["items"]
    left = [f"{o['kind']}/{o['metadata']['name']}" for o in release_objects(lab, case, NAMESPACED_KINDS)]
    left += [o["metadata"]["name"] for o in lab.get(CLUSTER_KINDS)["items"] if owned(o, case)]
    assert set(left) == KEPT.get(case.directory, set())
