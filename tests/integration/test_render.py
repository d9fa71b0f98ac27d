"""playbooks/render.yml: every add-on and application release site.yml installs, exported as files without a
cluster (the k8s_api host is never contacted), no secret in them, and each values file accepted by the chart it is
for (the lab's fixture charts, whose schemas follow upstream) in an offline `helm template`."""

import subprocess

import labenv
import yaml
from rolerun import REPO, run

RENDER = REPO / "playbooks" / "render.yml"
REPO_PASSWORD = "render-test-Repo-Secret-7"
RELEASES = {  # namespace/release -> fixture chart
    "tigera-operator/calico": "tigera-operator",
    "openebs/openebs": "openebs",
    "nfs-provisioner/local-storage-nfs": "nfs-server-provisioner",
    "metallb-system/metallb": "metallb",
    "devstats-test/ingress-nginx-test": "ingress-nginx",
    "devstats-prod/ingress-nginx-prod": "ingress-nginx",
    "cert-manager/cert-manager": "cert-manager",
    "codescoring/codescoring": "codescoring",
    "cvat/cvat": "cvat",
    "exadeploy/exadeploy": "exadeploy",
    **{
        f"devstats-test/devstats-test-{stage}": "devstats" for stage in ("patroni", "statics", "ingress")
    },  # secrets: Secrets, not a release
}
APP_SECRETS = {  # the apps' secret inputs: none may reach an exported file or the output
    "codescoring_repo_password": "render-Codescoring-Repo-9",
    "codescoring_secret_key": "render-Django-Key-9",
    "codescoring_superuser_password": "render-Admin-Pass-9",
    "codescoring_db_password": "render-Db-Pass-9",
    "cvat_postgresql_password": "render-Cvat-Pg-9",
    "cvat_postgresql_postgres_password": "render-Cvat-Pg-Admin-9",
    "cvat_postgresql_replication_password": "render-Cvat-Pg-Repl-9",
    "cvat_redis_password": "render-Cvat-Redis-9",
    "exadeploy_api_key": "render-Exa-Key-9",
}


def variables(export_dir, **extra):
    return (
        {
            "k8s_export_dir": str(export_dir),
            # an API host that refuses connections (a closed loopback port): render.yml must not contact it
            "ansible_host": "127.0.0.1",
            "ansible_port": 9,
            "kubernetes_pod_subnet": "10.244.0.0/16",
            # every add-on (the lab inventory leaves nfs_provisioner out: its pod cannot run on the lab's hosts)
            "addons_enabled": ["calico", "openebs", "nfs_provisioner", "metallb", "ingress_nginx", "cert_manager"],
            "openebs_repo": {
                "name": "lab-charts",
                "url": "http://10.77.0.1:8080",
                "username": "lab",
                "password": REPO_PASSWORD,
            },
            "metallb_pools": {
                "test": {"addresses": ["10.77.0.200-10.77.0.209"]},
                "prod": {"addresses": ["10.77.0.220/30"]},
            },
            "ingress_nginx_controllers": [
                {"namespace": "devstats-test", "class": "nginx-test", "pool": "test", "release": "ingress-nginx-test"},
                {
                    "namespace": "devstats-prod",
                    "class": "nginx-prod",
                    "pool": "prod",
                    "release": "ingress-nginx-prod",
                    "load_balancer_ip": "10.77.0.221",
                },
            ],
            "cert_manager_acme_email": "ops@example.org",
            "cert_manager_issuers": [
                {"name": "letsencrypt-test", "namespace": "devstats-test", "ingress_class": "nginx-test"}
            ],
            "apps_enabled": ["codescoring", "cvat", "exadeploy", "devstats"],
            "codescoring_repo_username": "vendor",
            "codescoring_site_host": "cs.example.org",
            "codescoring_superuser_email": "admin@example.org",
            "exadeploy_scheduler_image": "registry.example/exafunction/scheduler:0.10.0",
            "exadeploy_module_repository_image": "registry.example/exafunction/module_repository:0.10.0",
            "exadeploy_runner_image": "registry.example/exafunction/runner:0.10.0",
            "devstats_chart_path": str(REPO / "tests" / "charts" / "devstats"),
            "devstats_secrets_dir": "/nonexistent/devstats-secrets",  # export mode reads no secret file
            "devstats_stages": ["secrets", "patroni", "statics", "ingress"],
        }
        | APP_SECRETS
        | extra
    )


def exported(root):
    return {f"{p.parent.parent.name}/{p.parent.name}" for p in root.glob("*/*/release.yaml")}


def test_render_exports_every_release_without_secrets(tmp_path):
    out = tmp_path / "export"
    proc, stats = run(RENDER, tmp_path, "-vvv", extra=variables(out))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert exported(out) == set(RELEASES), sorted(exported(out))
    texts = "".join(p.read_text() for p in out.rglob("*.yaml"))
    for secret in (REPO_PASSWORD, *APP_SECRETS.values()):
        assert secret not in texts and secret not in proc.stdout + proc.stderr, secret
    openebs = yaml.safe_load((out / "openebs/openebs/release.yaml").read_text())
    assert openebs["chart"]["repository"] == {
        "name": "lab-charts",
        "url": "http://10.77.0.1:8080",
        "username": "lab",
        "password": "SECRET(openebs/openebs: repository password)",
    }
    assert openebs["chart"]["version"] and openebs["helm_template"].startswith(
        "helm template openebs lab-charts/openebs "
    )
    calico = yaml.safe_load((out / "tigera-operator/calico/values.yaml").read_text())
    assert calico["installation"]["calicoNetwork"]["ipPools"][0]["cidr"] == "10.244.0.0/16"
    prod = yaml.safe_load((out / "devstats-prod/ingress-nginx-prod/values.yaml").read_text())
    assert prod["controller"]["ingressClassResource"]["name"] == "nginx-prod"


def test_exported_values_render_with_the_charts_offline(tmp_path):
    out = tmp_path / "export"
    proc, _stats = run(RENDER, tmp_path, extra=variables(out))
    assert proc.returncode == 0, proc.stdout[-6000:]
    helm = labenv.require("helm")["LAB_HELM"]
    for release, chart in RELEASES.items():
        namespace, name = release.split("/")
        res = subprocess.run(
            [
                helm,
                "template",
                name,
                str(REPO / "tests" / "charts" / chart),
                "--namespace",
                namespace,
                "--values",
                str(out / release / "values.yaml"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode == 0, (release, res.stderr[-2000:])
        assert yaml.safe_load_all(res.stdout) is not None


def test_render_refuses_a_relative_directory_and_writes_nothing(tmp_path):
    proc, _stats = run(RENDER, tmp_path, extra=variables("export"))
    assert proc.returncode != 0 and "k8s_export_dir must be an absolute directory" in proc.stdout
    assert not (REPO / "export").exists()


def test_exporting_an_absent_release_removes_its_files(tmp_path):
    """helm_release with state absent in export mode (no chart given) deletes the release's export directory and
    touches no cluster; without export mode the same inputs would uninstall."""
    out = tmp_path / "export"
    (out / "apps" / "old").mkdir(parents=True)
    (out / "apps" / "old" / "release.yaml").write_text("stale: true\n")
    (out / "apps" / "kept").mkdir()
    play = tmp_path / "absent.yml"
    play.write_text(
        "- name: export an absent release\n  hosts: localhost\n  gather_facts: false\n  roles:\n"
        "    - role: baremetal.k8s.helm_release\n      helm_release_name: old\n      helm_release_namespace: apps\n"
        "      helm_release_state: absent\n"
        f"      helm_release_export_dir: {out}\n"
    )
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert not (out / "apps" / "old").exists() and (out / "apps" / "kept").is_dir()
    assert stats["localhost"]["changed"] == 1
    again, stats = run(play, tmp_path)
    assert again.returncode == 0 and stats["localhost"]["changed"] == 0
