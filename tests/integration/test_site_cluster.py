"""playbooks/cluster.yml makes the lab's cluster with kubeadm on the nspawn hosts: `kubeadm init` on master,
`kubeadm join` on node-0..2, every host a Ready Node at the lab's version with its inventory labels and taints, the
API server's certificate from the CA kubeadm wrote, kubeconfigs 0600; a second run and `--check` change nothing.
Then the lifecycle: reset.yml refuses without confirmation and resets one worker with it, cluster.yml joins that
worker again (a fresh token that never reaches the output, deleted afterwards); upgrade.yml refuses a skipped minor
and rehearses (`kubeadm upgrade apply --dry-run`) with a real drain and uncordon of every node; bad input fails in
preflight before any host changes.

Named to run after the test_role_* modules (pytest goes by file name): those reshape single hosts (containerd
methods, package versions), this one leaves a converged cluster for molecule and `make lab`."""

import json
import os
import re
import subprocess
import time

import labenv
import pytest
from rolerun import HOSTS, INVENTORY, REPO, changed, changed_tasks, run, ssh

CLUSTER = REPO / "playbooks" / "cluster.yml"
ADDONS = REPO / "playbooks" / "addons.yml"
TOKEN = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")
KUBECTL = "kubectl --kubeconfig /etc/kubernetes/admin.conf"


@pytest.fixture(scope="module")
def env():
    return labenv.require("hosts", "sources", "releases", "images")


@pytest.fixture(scope="module")
def cluster(env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    t0 = time.monotonic()
    proc, stats = run(CLUSTER, tmp)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    print(f"cluster.yml converge: {time.monotonic() - t0:.0f}s, changed {changed(stats)}")
    return env, tmp


def verbose_run(play):
    """ansible-playbook -vvv with the default callback: the text an operator (or AWX) would see and keep."""
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_NOCOLOR="1"
    )
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "-i", str(INVENTORY), str(play), "-vvv"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=900)


def kubectl_json(env, args):
    res = ssh(env, "master", f"{KUBECTL} {args} -o json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))


def wait_ready(env, names, seconds=180):
    deadline = time.monotonic() + seconds
    while True:
        nodes = {n["metadata"]["name"]: n for n in kubectl_json(env, "get nodes")["items"]}
        if all(name in nodes and ready(nodes[name]) for name in names) or time.monotonic() > deadline:
            return nodes
        time.sleep(2)


def test_kubeadm_made_the_cluster(cluster):
    env = cluster[0]
    nodes = wait_ready(env, HOSTS)
    assert sorted(nodes) == sorted(HOSTS)
    assert [n for n in HOSTS if not ready(nodes[n])] == []
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes.values()} == {"v1.33.13"}
    assert nodes["node-0"]["metadata"]["labels"].get("node") == "devstats-app"
    assert nodes["node-1"]["metadata"]["labels"].get("node2") == "devstats-db"
    assert {"key": "dedicated", "value": "batch", "effect": "PreferNoSchedule"} in nodes["node-2"]["spec"]["taints"]
    # kubeadm_control_plane_untaint: the control plane takes workloads (as the DevStats guide sets it up)
    assert not [t for t in nodes["master"]["spec"].get("taints", []) if "control-plane" in t["key"]]
    # the control plane is kubeadm's static pods, from the lab registry's images
    pods = kubectl_json(env, "-n kube-system get pods")["items"]
    running = {p["metadata"]["name"] for p in pods if p["status"]["phase"] == "Running"}
    for name in ("etcd-master", "kube-apiserver-master", "kube-controller-manager-master", "kube-scheduler-master"):
        assert name in running, sorted(running)
    images = {c["image"] for p in pods for c in p["spec"]["containers"]}
    assert all(i.startswith("10.77.0.1:5000/") for i in images), images


def test_api_certificate_kubeconfigs_and_runtime(cluster):
    env = cluster[0]
    res = ssh(
        env,
        "master",
        "openssl s_client -connect 10.77.0.10:6443 -CAfile /etc/kubernetes/pki/ca.crt -verify_return_error </dev/null"
        " 2>/dev/null | grep -q 'Verify return code: 0 (ok)' && echo verified; "
        "stat -c '%a %n' /etc/kubernetes/admin.conf /root/.kube/config /etc/kubernetes/kubeadm-config.yaml",
    )
    lines = res.stdout.split("\n")
    assert lines[0] == "verified", res.stdout + res.stderr
    assert [line.split()[0] for line in lines[1:4]] == ["600", "600", "600"], res.stdout
    for host in HOSTS:
        dump = ssh(env, host, "containerd config dump; test ! -e /root/.kube/config || echo ADMIN-CONFIG").stdout
        assert "SystemdCgroup = true" in dump, host
        assert host == "master" or "ADMIN-CONFIG" not in dump, f"{host} got the admin kubeconfig without asking"
    assert ssh(env, "master", "kubeadm upgrade plan").returncode == 0
    contexts = json.loads(ssh(env, "master", "kubectl config view -o json").stdout)["contexts"]
    by_name = {c["name"]: c["context"] for c in contexts}
    for name, namespace in (("test", "devstats-test"), ("prod", "devstats-prod"), ("shared", "default")):
        assert by_name[name] == {"cluster": "kubernetes", "user": "kubernetes-admin", "namespace": namespace}, by_name


@pytest.fixture(scope="module")
def addons(cluster):
    """addons.yml (the second half of site.yml) on the kubeadm cluster, as the lab inventory configures it."""
    env, tmp = cluster
    t0 = time.monotonic()
    proc, stats = run(ADDONS, tmp)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    print(f"addons.yml converge: {time.monotonic() - t0:.0f}s, changed {changed(stats)}")
    return env, tmp


def releases(env):
    return {
        f"{r['namespace']}/{r['name']}": (r["status"], int(r["revision"]))
        for r in json.loads(ssh(env, "master", "KUBECONFIG=/etc/kubernetes/admin.conf helm list -A -o json").stdout)
    }


def test_addons_run_on_the_cluster(addons):
    """Every add-on release deployed from the lab's authenticated chart repo; their pods (the lab's stand-in images,
    pulled through containerd's registry mirrors) Running on real kubelets; the objects the roles own in the API."""
    env = addons[0]
    add_ons = {
        "tigera-operator/calico",
        "openebs/openebs",
        "metallb-system/metallb",
        "devstats-test/ingress-nginx-test",
        "devstats-prod/ingress-nginx-prod",
        "cert-manager/cert-manager",
    }
    # the apps' releases (site.yml's apps.yml, from an earlier module's run) may be there too
    assert {k: v[0] for k, v in releases(env).items() if k in add_ons} == dict.fromkeys(add_ons, "deployed")
    namespaces = ["tigera-operator", "openebs", "metallb-system", "devstats-test", "devstats-prod", "cert-manager"]
    for ns in namespaces:
        pods = kubectl_json(env, f"-n {ns} get pods")["items"]
        running = [p for p in pods if p["status"]["phase"] == "Running"]
        assert running and all(c["ready"] for p in running for c in p["status"]["containerStatuses"]), (ns, pods)
    speakers = kubectl_json(env, "-n metallb-system get pods -l app.kubernetes.io/component=speaker")["items"]
    assert sorted(p["spec"]["nodeName"] for p in speakers) == sorted(HOSTS)
    # openebs: the provisioner's stand-in answers exec; openebs-hostpath is the only default class
    pod = kubectl_json(env, "-n openebs get pod -l component=localpv-provisioner")["items"][0]
    assert pod["status"]["containerStatuses"][0]["image"] == "docker.io/openebs/provisioner-localpv:4.3.0"
    res = ssh(env, "master", f"{KUBECTL} -n openebs exec {pod['metadata']['name']} -- sh -c 'echo exec-ok'")
    assert res.stdout.strip() == "exec-ok", res.stderr
    default = "storageclass.kubernetes.io/is-default-class"
    classes = kubectl_json(env, "get storageclass")["items"]
    assert [c["metadata"]["name"] for c in classes if c["metadata"].get("annotations", {}).get(default) == "true"] == [
        "openebs-hostpath"
    ]
    # metallb: a namespace for privileged pods, the seed's pools and their advertisements
    labels = kubectl_json(env, "get namespace metallb-system")["metadata"]["labels"]
    assert labels.get("pod-security.kubernetes.io/enforce") == "privileged", labels
    pools = {
        p["metadata"]["name"]: p["spec"]["addresses"]
        for p in kubectl_json(env, "-n metallb-system get ipaddresspools")["items"]
    }
    assert pools == {"test": ["10.77.0.200-10.77.0.209"], "prod": ["10.77.0.220-10.77.0.229"]}
    ads = {
        a["metadata"]["name"]: a["spec"]["ipAddressPools"]
        for a in kubectl_json(env, "-n metallb-system get l2advertisements")["items"]
    }
    assert ads == {"test": ["test"], "prod": ["prod"]}
    # ingress-nginx: one class per namespace, its LoadBalancer Service pinned to its pool (prod: a fixed address)
    classes = {c["metadata"]["name"]: c["spec"]["controller"] for c in kubectl_json(env, "get ingressclass")["items"]}
    assert classes == {"nginx-test": "k8s.io/ingress-nginx-test", "nginx-prod": "k8s.io/ingress-nginx-prod"}
    for ns, pool, address in (("devstats-test", "test", "10.77.0.200"), ("devstats-prod", "prod", "10.77.0.222")):
        svc = kubectl_json(env, f"-n {ns} get service ingress-nginx-{ns.split('-')[1]}-controller")
        assert svc["spec"]["type"] == "LoadBalancer"
        assert svc["metadata"]["annotations"]["metallb.io/address-pool"] == pool
        assert svc["status"]["loadBalancer"]["ingress"][0]["ip"] == address
    # cert-manager: the namespaced Let's Encrypt staging issuers, http01 through each namespace's class
    for ns, cls in (("devstats-test", "nginx-test"), ("devstats-prod", "nginx-prod")):
        acme = kubectl_json(env, f"-n {ns} get issuer letsencrypt-{ns.split('-')[1]}")["spec"]["acme"]
        assert acme["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
        assert acme["email"] == "ops@example.org"
        assert acme["solvers"][0]["http01"]["ingress"]["ingressClassName"] == cls


def test_addons_second_run_and_check_change_nothing(addons):
    tmp = addons[1]
    for mode in ((), ("--check", "--diff")):
        t0 = time.monotonic()
        proc, stats = run(ADDONS, tmp, *mode)
        assert proc.returncode == 0, proc.stdout[-6000:]
        assert changed(stats) == dict.fromkeys(["master"], 0), (mode, changed(stats), changed_tasks(proc))
        print(f"addons.yml {' '.join(mode) or 'no-op run'}: {time.monotonic() - t0:.0f}s")


def test_a_changed_value_upgrades_exactly_one_release(addons):
    env, tmp = addons
    before = releases(env)
    proc, stats = run(ADDONS, tmp, extra={"openebs_base_path": "/var/openebs/moved"})
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert changed(stats) == {"master": 1}, changed_tasks(proc)
    tasks = changed_tasks(proc)
    assert len(tasks) == 1 and tasks[0].endswith("Install or upgrade openebs/openebs"), tasks
    after = releases(env)
    assert after["openebs/openebs"] == ("deployed", before["openebs/openebs"][1] + 1)
    assert {k: v for k, v in after.items() if k != "openebs/openebs"} == {
        k: v for k, v in before.items() if k != "openebs/openebs"
    }
    proc, stats = run(ADDONS, tmp)  # back to the inventory's value
    assert proc.returncode == 0 and changed(stats) == {"master": 1}


def test_second_run_and_check_change_nothing(cluster):
    tmp = cluster[1]
    for mode in ((), ("--check", "--diff")):
        t0 = time.monotonic()
        proc, stats = run(CLUSTER, tmp, *mode)
        assert proc.returncode == 0, proc.stdout[-6000:]
        assert changed(stats) == dict.fromkeys(HOSTS, 0), (mode, changed(stats))
        print(f"cluster.yml {' '.join(mode) or 'no-op run'}: {time.monotonic() - t0:.0f}s")


def test_control_plane_drift_is_seen_and_undone(cluster):
    """kubeadm_control_plane reads the host once (host_probe) and skips what matches: an edited kubeadm config, a
    kubeconfig missing a context with a wider mode, a directory opened up and the control-plane taint put back must
    each be found and undone on master, and the run after that changes nothing."""
    env, tmp = cluster
    ssh(env, "master", "echo '# drift' >> /etc/kubernetes/kubeadm-config.yaml")
    ssh(env, "master", "kubectl config delete-context test >/dev/null && chmod 0644 /root/.kube/config")
    ssh(env, "master", "chmod 0755 /root/.kube")
    ssh(env, "master", f"{KUBECTL} taint node master node-role.kubernetes.io/control-plane:NoSchedule")
    proc, stats = run(CLUSTER, tmp)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert changed(stats) == {h: 4 if h == "master" else 0 for h in HOSTS}, changed_tasks(proc)
    out = ssh(
        env,
        "master",
        "grep -c '# drift' /etc/kubernetes/kubeadm-config.yaml; stat -c %a /root/.kube "
        "/root/.kube/config; kubectl config get-contexts -o name",
    ).stdout.split()
    assert out[:3] == ["0", "700", "600"] and "test" in out[3:], out
    taints = kubectl_json(env, "get node master")["spec"].get("taints", [])
    assert not [t for t in taints if "control-plane" in t["key"]], taints
    again, stats = run(CLUSTER, tmp)
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed_tasks(again)


def test_reset_needs_confirmation_then_a_worker_rejoins(cluster):
    env, tmp = cluster
    reset = REPO / "playbooks" / "reset.yml"
    proc, stats = run(reset, tmp, "--limit", "node-2")
    assert proc.returncode != 0 and "reset_confirm=yes" in proc.stdout
    assert ssh(env, "node-2", "test -e /etc/kubernetes/kubelet.conf").returncode == 0

    proc, stats = run(reset, tmp, "--limit", "node-2", extra={"reset_confirm": "yes"})
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert ssh(env, "node-2", "test -e /etc/kubernetes/kubelet.conf").returncode != 0
    assert "node-2" not in {n["metadata"]["name"] for n in kubectl_json(env, "get nodes")["items"]}

    proc = verbose_run(CLUSTER)
    assert proc.returncode == 0, proc.stdout[-6000:]
    recap = dict(re.findall(r"(?m)^(\S+)\s+: ok=\d+\s+changed=(\d+)", proc.stdout))
    assert int(recap["node-2"]) > 0 and recap["node-1"] == "0", recap
    assert TOKEN.findall(proc.stdout + proc.stderr) == [], "a bootstrap token reached the -vvv output"
    assert wait_ready(env, ["node-2"])["node-2"]["metadata"]["labels"].get("kubernetes.io/hostname") == "node-2"
    tokens = ssh(env, "master", "kubeadm token list -o jsonpath='{.description}{\"\\n\"}'").stdout
    assert "baremetal.k8s join" not in tokens, "the run's join token was not deleted"
    # nothing on the worker holds a bootstrap token (kubeadm removes its bootstrap kubeconfig after TLS bootstrap)
    found = ssh(env, "node-2", "grep -rlE '[a-z0-9]{6}\\.[a-z0-9]{16}' /etc/kubernetes /root /tmp 2>/dev/null || true")
    assert found.stdout.strip() == "", found.stdout


def test_upgrade_refuses_a_skipped_minor_or_a_downgrade(cluster):
    env, tmp = cluster
    upgrade = REPO / "playbooks" / "upgrade.yml"
    for version in ("1.35.0", "1.32.9"):
        proc, stats = run(upgrade, tmp, extra={"kubernetes_version": version})
        assert proc.returncode != 0 and "at most one minor newer" in proc.stdout, version
        assert all(v == 0 for v in changed(stats).values()), changed(stats)


def test_upgrade_rehearsal_drains_and_uncordons_every_node(cluster):
    env, tmp = cluster
    upgrade = REPO / "playbooks" / "upgrade.yml"
    proc, stats = run(upgrade, tmp, extra={"upgrade_dry_run": True})
    assert proc.returncode == 0, proc.stdout[-8000:]
    results = json.loads(proc.stdout)
    drained, applied = set(), []
    for play in results["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                if task["task"]["name"] == "Drain the node" and not res.get("skipped"):
                    drained.add(host)
                if task["task"]["name"].startswith("kubeadm upgrade apply") and not res.get("skipped"):
                    applied.append(res.get("stdout", ""))
    assert sorted(drained) == sorted(HOSTS)
    assert applied and "Finished dryrunning successfully" in applied[0], applied[-500:]
    nodes = wait_ready(env, HOSTS)
    assert [n for n, node in nodes.items() if node["spec"].get("unschedulable")] == []


def test_bad_input_fails_in_preflight_before_any_change(cluster):
    tmp = cluster[1]
    for extra, name in (
        ({"kubernetes_pod_subnet": "10.244.0.0/33"}, "kubernetes_pod_subnet"),
        ({"containerd_install_method": "podman"}, "containerd_install_method"),
        ({"kubernetes_version": "1.33.99"}, "has no kubeadm=1.33.99-1.1"),
    ):
        proc, stats = run(CLUSTER, tmp, extra=extra)
        assert proc.returncode != 0 and name in proc.stdout, (extra, proc.stdout[-3000:])
        assert all(v == 0 for v in changed(stats).values()), (extra, changed(stats))
