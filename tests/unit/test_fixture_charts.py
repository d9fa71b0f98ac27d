"""The fixture charts in tests/charts render, lint, and reject wrong values the way the vendor charts do.

Each chart has ci/valid-values.yaml (must lint and render the expected kinds) and tests/invalid-*.yaml
files whose first line is `# expect: TEXT`: `helm template` must fail and its error must contain TEXT.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

CHARTS_DIR = Path(__file__).resolve().parents[1] / "charts"

# chart directory -> (release name, namespace, kinds the valid values must render)
CHARTS = {
    "cert-manager": (
        "cert-manager",
        "cert-manager",
        {
            "CustomResourceDefinition",
            "Deployment",
            "Service",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Job",
        },
    ),
    "metallb": (
        "metallb",
        "metallb-system",
        {
            "CustomResourceDefinition",
            "Deployment",
            "DaemonSet",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Service",
            "Secret",
        },
    ),
    "tigera-operator": (
        "calico",
        "tigera-operator",
        {
            "CustomResourceDefinition",
            "Deployment",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Installation",
            "APIServer",
        },
    ),
    "openebs": (
        "openebs",
        "openebs",
        {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "StorageClass"},
    ),
    "nfs-server-provisioner": (
        "nfs-server-provisioner",
        "default",
        {"StatefulSet", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "StorageClass"},
    ),
    "ingress-nginx": (
        "nginx-ingress-test",
        "devstats-test",
        {
            "Deployment",
            "Service",
            "ConfigMap",
            "IngressClass",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Job",
        },
    ),
    "exadeploy": (
        "exadeploy",
        "exadeploy",
        {"Deployment", "Service", "ConfigMap", "ServiceAccount", "Role", "RoleBinding"},
    ),
    "cvat": (
        "cvat",
        "cvat",
        {"Deployment", "StatefulSet", "Service", "Secret", "PersistentVolumeClaim", "Job", "Ingress", "ServiceAccount"},
    ),
    "codescoring": (
        "codescoring",
        "codescoring",
        {"Deployment", "StatefulSet", "Service", "Secret", "PersistentVolumeClaim", "Ingress", "ConfigMap"},
    ),
    "devstats": (
        "devstats-test",
        "devstats-test",
        {
            "Secret",
            "PersistentVolumeClaim",
            "StatefulSet",
            "Service",
            "Endpoints",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "Pod",
            "CronJob",
            "Deployment",
            "Ingress",
        },
    ),
}


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory, helm_binary):
    """Environment for helm with private cache/config dirs."""
    home = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[var] = str(home / var.lower())
    env["BMK8S_TEST_HELM"] = helm_binary
    return env


def helm(env, *args):
    cmd = [env["BMK8S_TEST_HELM"], *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


def render(env, chart, values=None, extra=()):
    release, namespace = CHARTS[chart][:2]
    args = ["template", release, str(CHARTS_DIR / chart), "--namespace", namespace, "--include-crds"]
    if values:
        args += ["--values", str(values)]
    return helm(env, *args, *extra)


def documents(stdout):
    return [doc for doc in yaml.safe_load_all(stdout) if doc]


def render_valid(env, chart, extra=()):
    result = render(env, chart, CHARTS_DIR / chart / "ci" / "valid-values.yaml", extra)
    assert result.returncode == 0, result.stderr
    return documents(result.stdout)


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def invalid_cases():
    for chart in sorted(CHARTS):
        for path in sorted((CHARTS_DIR / chart / "tests").glob("invalid-*.yaml")):
            yield pytest.param(chart, path, id=f"{chart}/{path.stem}")


def test_every_chart_directory_is_covered():
    on_disk = {p.parent.name for p in CHARTS_DIR.glob("*/Chart.yaml")}
    assert on_disk == set(CHARTS)


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_chart_layout(chart):
    root = CHARTS_DIR / chart
    meta = yaml.safe_load((root / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert (root / "values.schema.json").is_file()
    assert (root / "ci" / "valid-values.yaml").is_file()
    assert list((root / "tests").glob("invalid-*.yaml")), "at least one invalid values file"
    assert not list((root / "ci").glob("invalid-*")), "helm lint would read invalid files in ci/"
    readme = (CHARTS_DIR / "README.md").read_text()
    assert f"`{chart}`" in readme and str(meta["version"]) in readme, "README table lists the pinned version"


# Lint warnings a chart keeps on purpose (upstream has the same object).
LINT_WARNINGS_ALLOWED = {
    "devstats": ["v1 Endpoints is deprecated"],  # Patroni's leader Endpoints, pre-created as upstream does
}


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_lint(chart, helm_env):
    result = helm(
        helm_env, "lint", str(CHARTS_DIR / chart), "--values", str(CHARTS_DIR / chart / "ci" / "valid-values.yaml")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith(("[WARNING]", "[ERROR]"))]
    unexpected = [w for w in warnings if not any(a in w for a in LINT_WARNINGS_ALLOWED.get(chart, []))]
    assert not unexpected, unexpected


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_valid_values_render_expected_kinds(chart, helm_env):
    docs = render_valid(helm_env, chart)
    kinds = {d["kind"] for d in docs}
    missing = CHARTS[chart][2] - kinds
    assert not missing, f"{chart} did not render {sorted(missing)}"


@pytest.mark.parametrize("chart,path", list(invalid_cases()))
def test_invalid_values_fail_naming_the_key(chart, path, helm_env):
    first = path.read_text().splitlines()[0]
    match = re.match(r"#\s*expect:\s*(.+)$", first)
    assert match, f"{path} must start with '# expect: TEXT'"
    result = render(helm_env, chart, path)
    assert result.returncode != 0, f"{path.name} rendered but should fail"
    assert match.group(1).strip() in result.stderr, result.stderr


def test_openebs_hostpath_class(helm_env):
    classes = by_kind(render_valid(helm_env, "openebs"), "StorageClass")
    hostpath = classes["openebs-hostpath"]
    assert hostpath["provisioner"] == "openebs.io/local"
    assert hostpath["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert "/var/openebs/local" in hostpath["metadata"]["annotations"]["cas.openebs.io/config"]
    not_default = render_valid(helm_env, "openebs", ("--set", "localpv-provisioner.hostpathClass.isDefaultClass=false"))
    annotations = by_kind(not_default, "StorageClass")["openebs-hostpath"]["metadata"]["annotations"]
    assert "storageclass.kubernetes.io/is-default-class" not in annotations


def test_openebs_engines_on_by_default(helm_env):
    result = render(helm_env, "openebs")
    assert result.returncode == 0, result.stderr
    assert len(by_kind(documents(result.stdout), "DaemonSet")) == 5


def test_nfs_provisioner_class(helm_env):
    docs = render_valid(helm_env, "nfs-server-provisioner")
    cls = by_kind(docs, "StorageClass")["nfs-openebs-localstorage"]
    assert cls["provisioner"] == "cluster.local/nfs-server-provisioner"
    claim = by_kind(docs, "StatefulSet")["nfs-server-provisioner"]["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["storageClassName"] == "openebs-hostpath"
    assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"


def test_ingress_nginx_class_and_scope(helm_env):
    docs = render_valid(helm_env, "ingress-nginx")
    assert by_kind(docs, "IngressClass")["nginx-test"]["spec"]["controller"] == "k8s.io/ingress-nginx-test"
    args = by_kind(docs, "Deployment")["nginx-ingress-test-ingress-nginx-controller"]["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    assert "--watch-namespace=devstats-test" in args
    assert "--ingress-class=nginx-test" in args
    assert "--election-id=ingress-nginx-test-leader" in args
    hooks = [d for d in docs if d["kind"] == "Job"]
    assert all("helm.sh/hook" in d["metadata"]["annotations"] for d in hooks)


def test_cert_manager_crds_follow_crds_enabled(helm_env):
    docs = render_valid(helm_env, "cert-manager")
    crds = by_kind(docs, "CustomResourceDefinition")
    assert {"issuers.cert-manager.io", "clusterissuers.cert-manager.io"} <= set(crds)
    assert crds["clusterissuers.cert-manager.io"]["spec"]["scope"] == "Cluster"
    spec = crds["issuers.cert-manager.io"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert {"acme", "ca", "selfSigned"} <= set(spec["properties"])
    without = render_valid(helm_env, "cert-manager", ("--set", "crds.enabled=false"))
    assert not by_kind(without, "CustomResourceDefinition")
    job = by_kind(docs, "Job")["cert-manager-startupapicheck"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install"


def test_metallb_crds(helm_env):
    crds = by_kind(render_valid(helm_env, "metallb"), "CustomResourceDefinition")
    pool = crds["ipaddresspools.metallb.io"]["spec"]
    assert pool["versions"][0]["name"] == "v1beta1"
    assert pool["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["required"] == ["addresses"]
    l2 = crds["l2advertisements.metallb.io"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert "ipAddressPools" in l2["properties"]["spec"]["properties"]


def test_tigera_installation_carries_pod_cidr(helm_env):
    docs = render_valid(helm_env, "tigera-operator")
    installation = by_kind(docs, "Installation")["default"]
    assert installation["spec"]["calicoNetwork"]["ipPools"][0]["cidr"] == "192.168.0.0/16"
    assert "enabled" not in installation["spec"]
    assert "installations.operator.tigera.io" in by_kind(docs, "CustomResourceDefinition")


def test_exadeploy_consumes_secrets_by_name(helm_env):
    """Upstream's layout: the API key is a volume of the scheduler only, the Postgres password one of the module
    repository, the S3 keys its environment (and the runner config names them for the runners)."""
    docs = render_valid(helm_env, "exadeploy")
    deployments = by_kind(docs, "Deployment")
    volumes = {v["name"]: v for v in deployments["scheduler"]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["system-secrets"]["secret"] == {
        "secretName": "exafunction-api-key",
        "items": [{"key": "api_key", "path": "api_key"}],
    }
    repository = deployments["module-repository"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in repository["volumes"]}
    assert volumes["system-secrets"]["secret"] == {
        "secretName": "exadeploy-postgres",
        "items": [{"key": "postgres_password", "path": "postgres_password"}],
    }
    env = {e["name"]: e for e in repository["containers"][0]["env"]}
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {"name": "exadeploy-aws", "key": "access_key"}
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "exadeploy-aws", "key": "secret_key"}
    config = by_kind(docs, "ConfigMap")["exafunction-config"]["data"]["exafunction_config.pbtxt"]
    assert 'access_key_id_secret_name: "exadeploy-aws"' in config
    assert not by_kind(docs, "Secret"), "the chart consumes secrets, it never creates them"


# The parts DevStats installs one release at a time: every skip flag of the chart but the per-secret ones
# (skip<Name>Secret) and skipAddAll.
SKIP_ALL = [
    key
    for key in yaml.safe_load((CHARTS_DIR / "devstats" / "values.yaml").read_text())
    if key.startswith("skip") and key != "skipAddAll" and not key.endswith("Secret")
]


def devstats_stage(env, keep, *sets):
    """Render DevStats the seed's staged way: every part skipped except `keep`."""
    flags = ",".join(f"{flag}=1" for flag in SKIP_ALL if flag != keep)
    extra = ["--set", flags + ",reportsPod=0"]
    for value in sets:
        extra += ["--set", value]
    return render_valid(env, "devstats", tuple(extra))


def test_devstats_secrets_stage(helm_env):
    docs = devstats_stage(helm_env, "skipSecrets")
    assert {d["kind"] for d in docs} == {"Secret"}
    secrets = by_kind(docs, "Secret")
    assert set(secrets) == {"pg-db", "github-oauth", "grafana-secret"}
    assert set(secrets["pg-db"]["data"]) == {
        "PG_ADMIN_USER.secret",
        "PG_HOST.secret",
        "PG_HOST_RO.secret",
        "PG_PASS.secret",
        "PG_PASS_RO.secret",
        "PG_PASS_TEAM.secret",
        "PG_PASS_REP.secret",
    }
    assert set(secrets["github-oauth"]["data"]) == {"GHA2DB_GITHUB_OAUTH.secret"}
    only_pg = devstats_stage(helm_env, "skipSecrets", "skipGitHubSecret=1,skipGrafanaSecret=1")
    assert set(by_kind(only_pg, "Secret")) == {"pg-db"}


def test_devstats_patroni_stage(helm_env):
    docs = devstats_stage(helm_env, "skipPostgres", "postgresStorageSize=30Gi")
    assert not by_kind(docs, "Secret"), "secrets come only from the secrets stage"
    sts = by_kind(docs, "StatefulSet")["devstats-postgres"]
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 999
    claim = sts["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "openebs-hostpath"
    assert claim["resources"]["requests"]["storage"] == "30Gi"
    services = by_kind(docs, "Service")
    assert {"devstats-postgres", "devstats-postgres-ro"} <= set(services)
    assert {p["port"] for p in services["devstats-postgres-ro"]["spec"]["ports"]} == {5432, 8008}


def test_devstats_index_ranges(helm_env):
    docs = devstats_stage(helm_env, "skipProvisions", "indexProvisionsFrom=1,indexProvisionsTo=2")
    assert set(by_kind(docs, "Pod")) == {"devstats-provision-prometheus"}
    backups = devstats_stage(helm_env, "skipBackupsPV", "backupsPVSize=2Gi")
    claim = by_kind(backups, "PersistentVolumeClaim")["devstats-backups"]["spec"]
    assert claim["storageClassName"] == "nfs-openebs-localstorage"
    assert claim["accessModes"] == ["ReadWriteMany"]


def test_devstats_ingress_issuer(helm_env):
    docs = devstats_stage(helm_env, "skipIngress", "sslEnv=prod,ingressClass=nginx-prod")
    ingress = by_kind(docs, "Ingress")["devstats-ingress"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/issuer"] == "letsencrypt-prod"
    assert ingress["spec"]["ingressClassName"] == "nginx-prod"


def test_cvat_objects(helm_env):
    docs = render_valid(helm_env, "cvat")
    server = by_kind(docs, "Deployment")["cvat-backend-server"]
    labels = server["spec"]["template"]["metadata"]["labels"]
    assert (labels["tier"], labels["component"], labels["app.kubernetes.io/instance"]) == ("backend", "server", "cvat")
    container = server["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "cvat-backend"
    env = {e["name"]: e for e in container["env"]}
    assert env["CVAT_POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "cvat-postgres-secret",
        "key": "password",
    }
    secret = by_kind(docs, "Secret")["cvat-postgres-secret"]
    assert set(secret["stringData"]) == {
        "database",
        "username",
        "password",
        "postgres-password",
        "replication-password",
    }
    assert by_kind(docs, "Ingress")["cvat"]["spec"]["rules"][0]["host"] == "cvat.lab.local"
    job = by_kind(docs, "Job")["cvat-backend-initializer-r1"]
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {}), "upstream's initializer is no hook"
    assert "opa" in by_kind(docs, "Service")


def test_cvat_existing_claim_instead_of_default_storage(helm_env):
    claim = "{name: cvat-backend-data, persistentVolumeClaim: {claimName: my-claim}}"
    sets = ["cvat.backend.permissionFix.enabled=false", "cvat.backend.defaultStorage.enabled=false"]
    extra = ["--set", ",".join(sets)]
    for part in ["server", "utils", "worker.export", "worker.import", "worker.annotation"]:
        extra += ["--set-json", f"cvat.backend.{part}.additionalVolumes=[{yaml_to_json(claim)}]"]
    docs = render_valid(helm_env, "cvat", tuple(extra))
    assert "cvat-backend-data" not in by_kind(docs, "PersistentVolumeClaim")
    volumes = by_kind(docs, "Deployment")["cvat-backend-server"]["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "cvat-backend-data", "persistentVolumeClaim": {"claimName": "my-claim"}}]


def yaml_to_json(text):
    return json.dumps(yaml.safe_load(text))


def test_codescoring_volume_modes(helm_env):
    docs = render_valid(helm_env, "codescoring")
    claims = by_kind(docs, "PersistentVolumeClaim")
    assert claims["analysis-root"]["spec"]["storageClassName"] == "openebs-hostpath"
    assert claims["media-root"]["spec"]["volumeName"] == "codescoring-media"
    assert "django-static" not in claims, "a pre-created claim is used directly"
    assert claims["backup"]["spec"]["volumeName"] == "codescoring-backup"
    pv = by_kind(docs, "PersistentVolume")["codescoring-backup"]
    assert pv["spec"]["local"]["path"] == "/var/lib/codescoring/backup"
    assert "codescoring-postgresql" not in claims, "postgresql.persistentVolume.exsistingClaim is used"
    backend = by_kind(docs, "Deployment")["ipcs-backend"]["spec"]["template"]["spec"]
    assert {"name": "django-static", "persistentVolumeClaim": {"claimName": "codescoring-static"}} in backend["volumes"]
    assert backend["imagePullSecrets"] == [{"name": "codescoring-regcred"}]
    assert {"ipcs-backend", "ipcs-pgcat", "codescoring-postgresql"} <= set(by_kind(docs, "Secret"))


def test_codescoring_pgbouncer_era(helm_env):
    sets = (
        "codescoring.pgcat.enabled=false,pgbouncer.enabled=true,pgbouncer.postgresql.host=pg.lab,"
        "pgbouncer.postgresql.password=lab-db-password,codescoring.config.databaseHost=pgbouncer,"
        "codescoring.config.databasePort=6432"
    )
    docs = render_valid(helm_env, "codescoring", ("--set", sets))
    assert "pgbouncer" in by_kind(docs, "Deployment") and "ipcs-pgcat" not in by_kind(docs, "Deployment")
    assert by_kind(docs, "ConfigMap")["ipcs-backend"]["data"]["DATABASE_PORT"] == "6432"
    both = render(
        helm_env,
        "codescoring",
        CHARTS_DIR / "codescoring" / "ci" / "valid-values.yaml",
        ("--set", "pgbouncer.enabled=true"),
    )
    assert both.returncode != 0 and "mutually exclusive" in both.stderr
