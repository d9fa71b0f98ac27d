"""The lab control plane: real etcd + kube-apiserver + controller-manager + scheduler, kwok nodes, lab PV provisioner.

Brings the component up through labenv.up (idempotent; needs root) and checks real API
state: nodes Ready, a Deployment Available, a Job Complete, a StatefulSet with hostpath PVCs Ready and Bound,
an RWX claim Bound, CRDs and custom resources, helm (the lab's helm part).
"""

import json
import os
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import labenv
import pytest

pytestmark = pytest.mark.lab  # the lab's own tests: their own tier (make lab-test), they bring parts up

LAB_DIR = labenv.LAB_DIR
K8S_VERSION = os.environ.get("LAB_K8S_VERSION", "v1.33.13")
LAB_NODES = ["master", "node-0", "node-1", "node-2"]
BRIDGE_IP = os.environ.get("LAB_NET_PREFIX", "10.77.0") + ".1"
API_PORT = os.environ.get("LAB_APISERVER_PORT", "6443")
PAUSE = "registry.k8s.io/pause:3.10"  # never pulled: kwok nodes run no containers


@pytest.fixture(scope="module")
def lab() -> dict:
    return labenv.up("controlplane")


@pytest.fixture(scope="module")
def kubectl(lab):
    def run(*args: str, stdin: str | None = None, check: bool = True, timeout: int = 120):
        cmd = [lab["LAB_KUBECTL"], "--kubeconfig", lab["KUBECONFIG"], *args]
        res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        if check and res.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {res.stderr}")
        return res

    return run


@pytest.fixture(scope="module")
def get_json(kubectl):
    return lambda *args: json.loads(kubectl("get", "-o", "json", *args).stdout)


@pytest.fixture(scope="module")
def namespace(kubectl):
    name = f"cp-test-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    # The controller-manager makes the namespace's default ServiceAccount a moment later, and `kubectl wait` fails at
    # once on an object that does not exist yet (CI saw that race): poll for it instead.
    deadline = time.monotonic() + 60
    while kubectl("-n", name, "get", "serviceaccount", "default", check=False).returncode != 0:
        assert time.monotonic() < deadline, f"no ServiceAccount default in namespace {name} after 60 s"
        time.sleep(0.5)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def apply(kubectl, manifest: str, namespace: str | None = None):
    args = ["apply", "-f", "-"] + (["-n", namespace] if namespace else [])
    return kubectl(*args, stdin=textwrap.dedent(manifest))


def test_versions(kubectl):
    version = json.loads(kubectl("version", "-o", "json").stdout)
    assert version["clientVersion"]["gitVersion"] == K8S_VERSION
    assert version["serverVersion"]["gitVersion"] == K8S_VERSION


def test_admin_kubeconfigs_are_private(lab):
    for conf in (lab["KUBECONFIG"], lab["LAB_KUBECONFIG_BRIDGE"]):
        assert Path(conf).stat().st_mode & 0o777 == 0o600
    assert f"server: https://127.0.0.1:{API_PORT}\n" in Path(lab["KUBECONFIG"]).read_text()
    assert f"server: https://{BRIDGE_IP}:{API_PORT}\n" in Path(lab["LAB_KUBECONFIG_BRIDGE"]).read_text()


def test_bridge_kubeconfig_reaches_the_api_server(lab):
    labenv.up("hosts")  # the bridge the lab hosts use to reach the API server
    res = subprocess.run(
        [lab["LAB_KUBECTL"], "--kubeconfig", lab["LAB_KUBECONFIG_BRIDGE"], "get", "--raw", "/readyz"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert res.returncode == 0 and res.stdout == "ok", res.stderr


def test_kubernetes_service_points_at_the_bridge_address(get_json):
    slices = get_json("-n", "default", "endpointslices", "-l", "kubernetes.io/service-name=kubernetes")["items"]
    addresses = {a for s in slices for e in s["endpoints"] for a in e["addresses"]}
    assert addresses == {BRIDGE_IP}


def test_nodes_ready(get_json):
    nodes = {n["metadata"]["name"]: n for n in get_json("nodes")["items"]}
    assert set(LAB_NODES) <= set(nodes)
    for name in LAB_NODES:
        node = nodes[name]
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", name
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == name
        assert node["status"]["allocatable"]["pods"] == "110"
    assert "node-role.kubernetes.io/control-plane" in nodes["master"]["metadata"]["labels"]
    assert "node-role.kubernetes.io/control-plane" not in nodes["node-0"]["metadata"]["labels"]


def test_deployment_becomes_available(kubectl, get_json, namespace):
    apply(
        kubectl,
        f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web}}
        spec:
          replicas: 3
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              containers: [{{name: web, image: {PAUSE}}}]
        """,
        namespace,
    )
    kubectl("-n", namespace, "wait", "--for=condition=Available", "deployment/web", "--timeout=120s")
    deploy = get_json("-n", namespace, "deployment/web")
    assert deploy["status"]["readyReplicas"] == 3
    pods = get_json("-n", namespace, "pods", "-l", "app=web")["items"]
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert {p["spec"]["nodeName"] for p in pods} <= set(LAB_NODES)


def test_job_completes(kubectl, get_json, namespace):
    apply(
        kubectl,
        f"""
        apiVersion: batch/v1
        kind: Job
        metadata: {{name: once}}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers: [{{name: once, image: {PAUSE}}}]
        """,
        namespace,
    )
    kubectl("-n", namespace, "wait", "--for=condition=Complete", "job/once", "--timeout=120s")
    assert get_json("-n", namespace, "job/once")["status"]["succeeded"] == 1


@pytest.fixture
def storage_class(kubectl, get_json):
    """Create a StorageClass unless a role already did; delete it afterwards only if we created it."""
    created = []

    def ensure(name: str, provisioner: str, binding: str) -> dict:
        if kubectl("get", "storageclass", name, check=False).returncode != 0:
            apply(
                kubectl,
                f"""
                apiVersion: storage.k8s.io/v1
                kind: StorageClass
                metadata: {{name: {name}}}
                provisioner: {provisioner}
                reclaimPolicy: Delete
                volumeBindingMode: {binding}
                """,
            )
            created.append(name)
        return get_json("storageclass", name)

    yield ensure
    for name in created:
        kubectl("delete", "storageclass", name, check=False)


def test_statefulset_with_hostpath_pvc(kubectl, get_json, namespace, storage_class):
    sc = storage_class("openebs-hostpath", "openebs.io/local", "WaitForFirstConsumer")
    assert sc["provisioner"] == "openebs.io/local"
    apply(
        kubectl,
        f"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {{name: db}}
        spec:
          replicas: 2
          serviceName: db
          selector: {{matchLabels: {{app: db}}}}
          template:
            metadata: {{labels: {{app: db}}}}
            spec:
              containers:
                - name: db
                  image: {PAUSE}
                  volumeMounts: [{{name: data, mountPath: /data}}]
          volumeClaimTemplates:
            - metadata: {{name: data}}
              spec:
                storageClassName: openebs-hostpath
                accessModes: [ReadWriteOnce]
                resources: {{requests: {{storage: 1Gi}}}}
        """,
        namespace,
    )
    kubectl("-n", namespace, "rollout", "status", "statefulset/db", "--timeout=180s", timeout=200)
    assert get_json("-n", namespace, "statefulset/db")["status"]["readyReplicas"] == 2
    pv_names = []
    for ordinal in (0, 1):
        pvc = get_json("-n", namespace, f"pvc/data-db-{ordinal}")
        assert pvc["status"]["phase"] == "Bound"
        pv = get_json("pv", pvc["spec"]["volumeName"])
        pv_names.append(pv["metadata"]["name"])
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "openebs.io/local"
        assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
        assert Path(pv["spec"]["hostPath"]["path"]).is_dir()
        # the volume is pinned to the node the pod was scheduled to
        pod_node = get_json("-n", namespace, f"pod/db-{ordinal}")["spec"]["nodeName"]
        terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [pod_node]

    # reclaimPolicy Delete: removing the claims removes the volumes
    kubectl("-n", namespace, "delete", "statefulset/db", "--wait=true", "--timeout=60s")
    kubectl("-n", namespace, "delete", "pvc", "data-db-0", "data-db-1", "--wait=true", "--timeout=60s")
    for name in pv_names:
        kubectl("wait", "--for=delete", f"pv/{name}", "--timeout=60s")


def test_rwx_claim_binds(kubectl, get_json, namespace, storage_class):
    storage_class("lab-test-nfs", "cluster.local/nfs-server-provisioner", "Immediate")
    apply(
        kubectl,
        """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: shared}
        spec:
          storageClassName: lab-test-nfs
          accessModes: [ReadWriteMany]
          resources: {requests: {storage: 2Gi}}
        """,
        namespace,
    )
    kubectl("-n", namespace, "wait", "--for=jsonpath={.status.phase}=Bound", "pvc/shared", "--timeout=60s")
    pvc = get_json("-n", namespace, "pvc/shared")
    assert pvc["status"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["status"]["capacity"]["storage"] == "2Gi"


def test_claim_of_unknown_provisioner_stays_pending(kubectl, get_json, namespace, storage_class):
    storage_class("lab-test-unserved", "example.com/not-served", "Immediate")
    storage_class("lab-test-nfs", "cluster.local/nfs-server-provisioner", "Immediate")
    for name, klass in (("orphan", "lab-test-unserved"), ("witness", "lab-test-nfs")):
        apply(
            kubectl,
            f"""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {{name: {name}}}
            spec:
              storageClassName: {klass}
              accessModes: [ReadWriteOnce]
              resources: {{requests: {{storage: 1Gi}}}}
            """,
            namespace,
        )
    # The provisioner handles claims in the order the API server reports them: once the served claim created
    # after the orphan is bound, it has already looked at the orphan (and must have left it alone).
    kubectl("-n", namespace, "wait", "--for=jsonpath={.status.phase}=Bound", "pvc/witness", "--timeout=60s")
    assert get_json("-n", namespace, "pvc/orphan")["status"]["phase"] == "Pending"
    kubectl("-n", namespace, "delete", "pvc/orphan", "pvc/witness")


def test_crd_and_custom_resource(kubectl, get_json, namespace):
    group = "lab.bmk8s.example"
    apply(
        kubectl,
        f"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: widgets.{group}}}
        spec:
          group: {group}
          scope: Namespaced
          names: {{plural: widgets, singular: widget, kind: Widget}}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec:
                      type: object
                      required: [size]
                      properties:
                        size: {{type: integer, minimum: 1}}
        """,
    )
    try:
        kubectl("wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=60s")
        widget = f"apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w1}}\nspec: {{size: %s}}\n"
        kubectl("-n", namespace, "apply", "-f", "-", stdin=widget % 3)
        assert get_json("-n", namespace, "widgets.lab.bmk8s.example/w1")["spec"]["size"] == 3
        # the API server validates against the CRD schema
        bad = kubectl("-n", namespace, "apply", "-f", "-", stdin=widget % 0, check=False)
        assert bad.returncode != 0 and "spec.size" in bad.stderr
    finally:
        kubectl("delete", f"crd/widgets.{group}", check=False)


def test_helm_install_wait(lab, get_json, namespace, tmp_path):
    helm_bin = labenv.up("helm")["LAB_HELM"]
    chart = tmp_path / "lab-hello"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: lab-hello\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 2\n")
    (chart / "templates/deployment.yaml").write_text(
        textwrap.dedent(
            f"""\
            apiVersion: apps/v1
            kind: Deployment
            metadata: {{name: {{{{ .Release.Name }}}}}}
            spec:
              replicas: {{{{ .Values.replicas }}}}
              selector: {{matchLabels: {{app: {{{{ .Release.Name }}}}}}}}
              template:
                metadata: {{labels: {{app: {{{{ .Release.Name }}}}}}}}
                spec:
                  containers: [{{name: main, image: {PAUSE}}}]
            """
        )
    )
    env = {**os.environ, "KUBECONFIG": lab["KUBECONFIG"]}

    def helm(*args: str) -> str:
        cmd = [helm_bin, "--namespace", namespace, *args]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert res.returncode == 0, f"helm {' '.join(args)}: {res.stderr}"
        return res.stdout

    helm("upgrade", "--install", "hello", str(chart), "--wait", "--atomic", "--timeout", "2m")
    assert json.loads(helm("status", "hello", "-o", "json"))["info"]["status"] == "deployed"
    assert get_json("-n", namespace, "deployment/hello")["status"]["readyReplicas"] == 2
    helm("uninstall", "hello", "--wait")
