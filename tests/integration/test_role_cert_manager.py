"""roles/cert_manager on the lab's API server (the cert-manager fixture chart with upstream's keys and CRDs): the
chart with CRDs, namespaced Let's Encrypt Issuers and a ClusterIssuer with http01 through an ingress class on the
staging server, a second run and --check change nothing, a missing e-mail fails before any change."""

import uuid

import pytest
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role

SUFFIX = uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "cm")
    env["ENVS"] = [env["NAMESPACE"] + "-test", env["NAMESPACE"] + "-prod"]
    for ns in env["ENVS"]:
        kubectl(env, "create", "namespace", ns, check=True)
    yield env
    kubectl(env, "delete", "clusterissuer", f"letsencrypt-{SUFFIX}", "--ignore-not-found")
    helm(env, "uninstall", "-n", env["NAMESPACE"], "cert-manager", "--ignore-not-found", "--wait")
    # the chart keeps its CRDs (helm.sh/resource-policy: keep, as upstream's): a later run's install must own them
    for crd in ("certificates", "clusterissuers", "issuers"):
        kubectl(env, "delete", "crd", f"{crd}.cert-manager.io", "--ignore-not-found")
    for ns in [env["NAMESPACE"], *env["ENVS"]]:
        kubectl(env, "delete", "namespace", ns, "--ignore-not-found", "--wait=false")


def variables(env, **extra):
    test_ns, prod_ns = env["ENVS"]
    return {
        "cert_manager_namespace": env["NAMESPACE"],
        "cert_manager_repo": lab_repo(env),
        "cert_manager_acme_email": "ops@example.org",
        "cert_manager_issuers": [
            {"name": "letsencrypt-test", "namespace": test_ns, "ingress_class": "nginx-test"},
            {"name": "letsencrypt-prod", "namespace": prod_ns, "ingress_class": "nginx-prod"},
        ],
        "cert_manager_cluster_issuer": {"name": f"letsencrypt-{SUFFIX}", "ingress_class": "nginx"},
        "cert_manager_kubeconfig": env["KUBECONFIG"],
        "cert_manager_helm_binary": env["LAB_HELM"],
    } | extra


def test_chart_and_issuers(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "cert_manager", variables(lab))
    assert rc == 0, out[-6000:]
    staging = "https://acme-staging-v02.api.letsencrypt.org/directory"
    for ns, env_name in zip(lab["ENVS"], ("test", "prod"), strict=True):
        issuer = kubectl_json(lab, "get", "issuers.cert-manager.io", f"letsencrypt-{env_name}", "-n", ns)["spec"][
            "acme"
        ]
        assert (issuer["email"], issuer["server"]) == ("ops@example.org", staging)
        assert issuer["solvers"] == [{"http01": {"ingress": {"ingressClassName": f"nginx-{env_name}"}}}]
        assert issuer["privateKeySecretRef"] == {"name": f"letsencrypt-{env_name}-account-key"}
    cluster = kubectl_json(lab, "get", "clusterissuers.cert-manager.io", f"letsencrypt-{SUFFIX}")["spec"]["acme"]
    assert cluster["solvers"][0]["http01"]["ingress"]["ingressClassName"] == "nginx"
    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "cert_manager", variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])

    rc, stats, out = run_role(lab, tmp_path, "cert_manager", variables(lab, cert_manager_acme_server="production"))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    issuer = kubectl_json(lab, "get", "issuers.cert-manager.io", "letsencrypt-test", "-n", lab["ENVS"][0])
    assert issuer["spec"]["acme"]["server"] == "https://acme-v02.api.letsencrypt.org/directory"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"cert_manager_acme_email": ""}, "cert_manager_acme_email"),
        ({"cert_manager_acme_server": "live"}, "cert_manager_acme_server"),
        ({"cert_manager_issuers": [{"name": "x"}]}, "cert_manager_issuers"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    rc, stats, out = run_role(lab, tmp_path, "cert_manager", variables(lab) | change)
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
