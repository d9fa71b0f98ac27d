"""roles/ingress_nginx on the lab's API server (the ingress-nginx fixture chart, which has upstream's keys): two
controllers, each in and scoped to its namespace with its own IngressClass, controller value and election id, its
Service pinned to its MetalLB pool (one with a fixed address), the seed's probes; a second run and --check change
nothing; an unknown pool, an address outside its pool and a class used twice fail before any change, all named."""

import uuid

import pytest
from apirun import LoadBalancerStandin, helm, kubectl, kubectl_json, lab_api, lab_repo, run_role

POOLS = {"test": {"addresses": ["10.77.0.200-10.77.0.209"]}, "prod": {"addresses": ["10.77.0.224/28"]}}
SUFFIX = uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "ing")
    env["CONTROLLERS"] = [
        {"namespace": env["NAMESPACE"] + "-test", "class": f"nginx-test-{SUFFIX}", "pool": "test"},
        {
            "namespace": env["NAMESPACE"] + "-prod",
            "class": f"nginx-prod-{SUFFIX}",
            "pool": "prod",
            "load_balancer_ip": "10.77.0.226",
        },
    ]
    # the pools the controllers name, through the metallb role, and a stand-in for MetalLB's controller
    metallb = {
        "metallb_namespace": env["NAMESPACE"] + "-lb",
        "metallb_repo": lab_repo(env),
        "metallb_pools": POOLS,
        "metallb_ready_timeout": 120,
        "metallb_kubeconfig": env["KUBECONFIG"],
        "metallb_helm_binary": env["LAB_HELM"],
    }
    rc, _stats, out = run_role(env, tmp_path_factory.mktemp("metallb"), "metallb", metallb)
    assert rc == 0, out[-4000:]
    standin = LoadBalancerStandin(env, [c["namespace"] for c in env["CONTROLLERS"]])
    standin.start()
    yield env
    standin.stop()
    helm(env, "uninstall", "-n", env["NAMESPACE"] + "-lb", "metallb", "--ignore-not-found", "--wait")
    kubectl(env, "delete", "namespace", env["NAMESPACE"] + "-lb", "--ignore-not-found", "--wait=false")
    for c in env["CONTROLLERS"]:
        helm(env, "uninstall", "-n", c["namespace"], "ingress-" + c["class"], "--ignore-not-found")
        kubectl(env, "delete", "namespace", c["namespace"], "--ignore-not-found", "--wait=false")


def variables(env, controllers):
    return {
        "ingress_nginx_controllers": controllers,
        "ingress_nginx_pools": POOLS,
        "ingress_nginx_repo": lab_repo(env),
        "ingress_nginx_kubeconfig": env["KUBECONFIG"],
        "ingress_nginx_helm_binary": env["LAB_HELM"],
    }


def test_one_controller_per_namespace(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "ingress_nginx", variables(lab, lab["CONTROLLERS"]))
    assert rc == 0, out[-6000:]
    for c in lab["CONTROLLERS"]:
        ns, cls = c["namespace"], c["class"]
        ingress_class = kubectl_json(lab, "get", "ingressclass", cls)
        assert ingress_class["spec"]["controller"] == f"k8s.io/ingress-{cls}"
        (deploy,) = kubectl_json(lab, "get", "deployment", "-n", ns)["items"]
        container = deploy["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        assert f"--ingress-class={cls}" in args and f"--controller-class=k8s.io/ingress-{cls}" in args
        assert f"--election-id=ingress-{cls}-leader" in args and f"--watch-namespace={ns}" in args
        for probe in ("livenessProbe", "readinessProbe"):
            got = {k: container[probe][k] for k in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds")}
            assert got == {"initialDelaySeconds": 15, "periodSeconds": 20, "timeoutSeconds": 5}
            assert (container[probe]["successThreshold"], container[probe]["failureThreshold"]) == (1, 5)
        services = [
            s for s in kubectl_json(lab, "get", "service", "-n", ns)["items"] if s["spec"]["type"] == "LoadBalancer"
        ]
        assert len(services) == 1
        assert services[0]["metadata"]["annotations"]["metallb.io/address-pool"] == c["pool"]
        assert services[0]["spec"].get("loadBalancerIP", "") == c.get("load_balancer_ip", "")
        address = services[0]["status"]["loadBalancer"]["ingress"][0]["ip"]
        assert address == c["load_balancer_ip"] if "load_balancer_ip" in c else address.startswith("10.77.0.20")
    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "ingress_nginx", variables(lab, lab["CONTROLLERS"]), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])


def test_bad_controllers_fail_at_once_before_any_change(lab, tmp_path):
    bad = [
        {"namespace": "ing-bad-a", "class": f"nginx-bad-{SUFFIX}", "pool": "staging"},
        {"namespace": "ing-bad-b", "class": f"nginx-bad-{SUFFIX}", "pool": "prod", "load_balancer_ip": "10.77.0.100"},
    ]
    rc, stats, out = run_role(lab, tmp_path, "ingress_nginx", variables(lab, bad))
    assert rc != 0
    assert "ingress_nginx_controllers[0]: pool staging is not a MetalLB pool" in out
    assert "ingress_nginx_controllers[1]: class nginx-bad-" in out and "is used twice" in out
    assert "ingress_nginx_controllers[1]: load_balancer_ip 10.77.0.100 is not in pool prod" in out
    assert stats.get("changed", 0) == 0
    assert kubectl(lab, "get", "namespace", "ing-bad-a").returncode != 0
