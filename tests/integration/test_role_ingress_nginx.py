"""roles/ingress_nginx on the lab's API server (the ingress-nginx fixture chart, which has upstream's keys): two
controllers, each in and scoped to its namespace with its own IngressClass, controller value and election id, its
Service pinned to its MetalLB pool (one with a fixed address), the seed's probes; a second run and --check change
nothing; an unknown pool, an address outside its pool and a class used twice fail before any change, all named."""

import uuid

import pytest
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role

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
    yield env
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
