"""roles/cvat on the lab's API server (kwok nodes; real helm; the cvat fixture chart with upstream's keys from the lab's
OCI registry behind basic auth, and as a chart directory), run from localhost as an AWX execution environment would.

Real: the install and upgrade, the credential Secrets (keys and decoded contents, and every secretKeyRef of the
release's pods resolving to them), the existing claim mounted in every backend pod, the ingress, idempotence and
--check, bad input failing before any change (missing passwords, an existing Secret without its keys, a second
release in a namespace while the OPA Service is named `opa`), the recovery from "spec.selector ... field is
immutable" (a release made by a chart copy with other selectors; the role deletes the Deployments by label and
upgrades), external PostgreSQL/Redis with existing Secrets, Nuclio's registry Secret, Traefik's externalIPs,
state=absent, and no secret in -vvv output.
Simulated: the superuser exec. kwok's pods run no containers, so `cvat_kubectl_binary` is a stand-in kubectl that
records its argv and stdin and runs the command after `--` on this machine with a stand-in `python` (manage.py
shell answers from a state file; createsuperuser records DJANGO_SUPERUSER_PASSWORD). The pod the role picks is the
real backend server pod of the release on the API server; the command line, the stdin hand-over of the password and
the exists-guard are the role's own.
"""

import base64
import json
import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from apirun import helm, kubectl, kubectl_json, lab_api, run_role
from leaks import leaked
from rolerun import REPO

CHART_DIR = REPO / "tests" / "charts" / "cvat"
VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["version"]
RUN = uuid.uuid4().hex[:8]
PASSWORDS = {
    "cvat_postgresql_password": f"pg-user-{RUN}",
    "cvat_postgresql_postgres_password": f"pg-admin-{RUN}",
    "cvat_postgresql_replication_password": f"pg-repl-{RUN}",
    "cvat_redis_password": f"redis-{RUN}",
    "cvat_kvrocks_password": f"kvrocks-{RUN}",
}
SUPERUSER_PASSWORD = f"super-{RUN}"
NUCLIO_PASSWORD = f"nuclio-{RUN}"
# Backend Deployments that must carry the claim (the utils worker is cvat-backend-utils in the fixture and
# cvat-backend-worker-utils in newer upstream charts: either counts); every tier=backend Deployment is checked.
BACKEND = {
    "cvat-backend-server",
    "cvat-backend-worker-export",
    "cvat-backend-worker-import",
    "cvat-backend-worker-chunks",
}

FAKE_KUBECTL = """#!{python}
# Stand-in kubectl for kwok pods: records the call, then runs the command after `--` here with a stand-in python.
import json, os, subprocess, sys
args = sys.argv[1:]
data = sys.stdin.read() if "--stdin" in args else ""
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv, "stdin": data}}) + "\\n")
if "exec" not in args or "--" not in args:
    sys.exit("fake kubectl: only exec is simulated")
cmd = args[args.index("--") + 1:]
env = dict(os.environ, PATH={bindir!r} + ":" + os.environ["PATH"])
sys.exit(subprocess.run(cmd, input=data, text=True, env=env).returncode)
"""

FAKE_PYTHON = """#!{python}
# Stand-in for `python manage.py ...` in the backend container.
import json, os, re, sys
state = {state!r}
users = [json.loads(line) for line in open(state)] if os.path.exists(state) else []
args = sys.argv[1:]
if args[:2] == ["manage.py", "shell"] and args[2] == "--command":
    name = json.loads(re.search(r"filter\\(username=(\\"(?:[^\\"\\\\]|\\\\.)*\\")\\)", args[3]).group(1))
    print("CVAT_SUPERUSER_" + ("EXISTS" if any(u["username"] == name for u in users) else "MISSING"))
elif args[:3] == ["manage.py", "createsuperuser", "--noinput"]:
    opts = dict(zip(args[3::2], args[4::2]))
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
    if not password:
        sys.exit("CommandError: DJANGO_SUPERUSER_PASSWORD is empty")
    with open(state, "a") as out:
        user = {{"username": opts["--username"], "email": opts["--email"], "password": password}}
        out.write(json.dumps(user) + "\\n")
    print("Superuser created successfully.")
else:
    sys.exit("fake python: unexpected " + repr(args))
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "cvat")
    ns = env["NAMESPACE"]
    env["EXT_NS"], env["IMM_NS"], env["BAD_NS"] = ns + "-ext", ns + "-imm", ns + "-bad"
    for namespace in (ns, env["EXT_NS"], env["IMM_NS"]):
        kubectl(env, "create", "namespace", namespace, check=True)
    # The existing claim for the backend data, bound to a volume made for it (no provisioner involved).
    env["PV"] = f"{ns}-data"
    apply(env, claim_objects(ns, env["PV"], "cvat-data"))
    fake = tmp_path_factory.mktemp("fake-kubectl")
    (fake / "bin").mkdir()
    env["EXEC_LOG"], env["USERS"] = str(fake / "exec.jsonl"), str(fake / "users.jsonl")
    python = str(REPO / ".venv/bin/python")
    (fake / "kubectl").write_text(FAKE_KUBECTL.format(python=python, log=env["EXEC_LOG"], bindir=str(fake / "bin")))
    (fake / "bin" / "python").write_text(FAKE_PYTHON.format(python=python, state=env["USERS"]))
    for script in (fake / "kubectl", fake / "bin" / "python"):
        script.chmod(0o755)
    env["FAKE_KUBECTL"] = str(fake / "kubectl")
    yield env
    for namespace in (ns, env["EXT_NS"], env["IMM_NS"]):
        for release in ("cvat", "cvat2"):
            helm(env, "uninstall", "-n", namespace, release, "--ignore-not-found")
        kubectl(env, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false")
    kubectl(env, "delete", "pv", env["PV"], env["PV"] + "-imm", "--ignore-not-found", "--wait=false")


def apply(env, objects):
    path = Path(env["HELM_HOME_ENV"]["HELM_CONFIG_HOME"]).parent / f"objects-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    kubectl(env, "apply", "-f", str(path), check=True)


def claim_objects(namespace, pv, claim):
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteMany"],
                "storageClassName": "",
                "hostPath": {"path": "/var/tmp/" + pv},
                "claimRef": {"namespace": namespace, "name": claim},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "namespace": namespace},
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "storageClassName": "",
                "volumeName": pv,
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    ]


def oci_vars(env):
    registry = env["LAB_OCI_REGISTRY_AUTH"]
    return {
        "cvat_chart_source": "oci",
        "cvat_chart_oci": f"oci://{registry}/charts/cvat",
        "cvat_chart_version": VERSION,
        "cvat_oci_login": {"registry": registry, "username": "lab", "password": env["PASSWORD"]},
        "cvat_oci_plain_http": True,
    }


def variables(env, **extra):
    return (
        {
            "cvat_namespace": env["NAMESPACE"],
            "cvat_release_name": "cvat",
            "cvat_backend_data_claim": "cvat-data",
            "cvat_ingress_class": "nginx",
            "cvat_ingress_hostname": "cvat.lab.local",
            # kvrocks' own claim template needs a provisioner the lab's API server does not have
            "cvat_values": {"cvat": {"kvrocks": {"defaultStorage": {"enabled": False}}}},
            "cvat_timeout": "3m",
            "cvat_kubeconfig": env["KUBECONFIG"],
            "cvat_helm_binary": env["LAB_HELM"],
            "cvat_kubectl_binary": env["FAKE_KUBECTL"],
        }
        | oci_vars(env)
        | PASSWORDS
        | extra
    )


def values_of(env, release, namespace):
    return json.loads(helm(env, "get", "values", release, "-n", namespace, "-o", "json").stdout)


def history(env, release, namespace):
    return json.loads(helm(env, "history", release, "-n", namespace, "-o", "json").stdout)


def secret_data(env, name, namespace):
    secret = kubectl_json(env, "get", "secret", name, "-n", namespace)
    return secret, {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def deployments(env, namespace, release="cvat"):
    items = kubectl_json(env, "get", "deployments", "-n", namespace, "-l", f"app.kubernetes.io/instance={release}")
    return {d["metadata"]["name"]: d for d in items["items"]}


def unresolved_secret_refs(env, namespace):
    """secretKeyRefs of the namespace's Deployments and StatefulSets that name a missing Secret or key."""
    secrets = {
        s["metadata"]["name"]: set(s.get("data") or {})
        for s in kubectl_json(env, "get", "secrets", "-n", namespace)["items"]
    }
    problems = []
    for kind in ("deployments", "statefulsets"):
        for obj in kubectl_json(env, "get", kind, "-n", namespace)["items"]:
            for container in obj["spec"]["template"]["spec"]["containers"]:
                for var in container.get("env", []):
                    ref = (var.get("valueFrom") or {}).get("secretKeyRef")
                    if ref and ref["key"] not in secrets.get(ref["name"], set()):
                        problems.append(f"{obj['metadata']['name']}: {var['name']} -> {ref['name']}/{ref['key']}")
    return problems


def exec_calls(env):
    path = Path(env["EXEC_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_install_secrets_claim_ingress_idempotent_then_upgrade(lab, tmp_path):
    ns = lab["NAMESPACE"]
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab))
    assert rc == 0, out[-6000:]
    [rel] = json.loads(helm(lab, "list", "-n", ns, "-o", "json").stdout)
    assert (rel["name"], rel["status"], rel["chart"]) == ("cvat", "deployed", f"cvat-{VERSION}")

    # Credentials in the role's Secrets, with the keys the chart and bitnami's subcharts read.
    secret, data = secret_data(lab, "cvat-postgresql-auth", ns)
    assert data == {
        "database": "cvat",
        "username": "cvat",
        "password": PASSWORDS["cvat_postgresql_password"],
        "postgres-password": PASSWORDS["cvat_postgresql_postgres_password"],
        "replication-password": PASSWORDS["cvat_postgresql_replication_password"],
    }
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "baremetal.k8s.cvat"
    assert secret_data(lab, "cvat-redis-auth", ns)[1] == {"password": PASSWORDS["cvat_redis_password"]}
    assert secret_data(lab, "cvat-kvrocks-auth", ns)[1] == {"password": PASSWORDS["cvat_kvrocks_password"]}
    assert unresolved_secret_refs(lab, ns) == []

    # The chart values name the Secrets and hold no password.
    values = values_of(lab, "cvat", ns)
    assert values["postgresql"]["secret"] == {"create": False, "name": "cvat-postgresql-auth"}
    assert values["postgresql"]["auth"]["existingSecret"] == "cvat-postgresql-auth"
    assert values["redis"]["secret"] == {"create": False, "name": "cvat-redis-auth"}
    assert values["redis"]["auth"] == {"existingSecret": "cvat-redis-auth", "existingSecretPasswordKey": "password"}
    assert leaked(json.dumps(values), *PASSWORDS.values()) == []

    # The existing claim in every backend pod; no permission fix, no chart-made claim.
    backend = {n: d for n, d in deployments(lab, ns).items() if d["metadata"]["labels"].get("tier") == "backend"}
    assert BACKEND <= set(backend) and {"cvat-backend-utils", "cvat-backend-worker-utils"} & set(backend), set(backend)
    volume = {"name": "cvat-backend-data", "persistentVolumeClaim": {"claimName": "cvat-data"}}
    for name, deployment in backend.items():
        spec = deployment["spec"]["template"]["spec"]
        assert volume in spec["volumes"], name
        assert not spec.get("initContainers"), name
    assert kubectl(lab, "get", "pvc", "cvat-backend-data", "-n", ns).returncode != 0
    assert values["cvat"]["backend"]["permissionFix"] == {"enabled": False}
    assert values["cvat"]["backend"]["defaultStorage"] == {"enabled": False}

    ingress = kubectl_json(lab, "get", "ingress", "cvat", "-n", ns)
    assert (ingress["spec"]["ingressClassName"], ingress["spec"]["rules"][0]["host"]) == ("nginx", "cvat.lab.local")

    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])
    assert len(history(lab, "cvat", ns)) == 1

    # A value change upgrades this release only: one change, revision 2, the Secrets untouched.
    before = {
        n: secret_data(lab, n, ns)[0]["metadata"]["resourceVersion"]
        for n in ("cvat-postgresql-auth", "cvat-redis-auth")
    }
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, cvat_ingress_hostname="cvat2.lab.local"))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert [h["revision"] for h in history(lab, "cvat", ns)] == [1, 2]
    ingress = kubectl_json(lab, "get", "ingress", "cvat", "-n", ns)
    assert ingress["spec"]["rules"][0]["host"] == "cvat2.lab.local"
    # At revision 2 the initializer Job's name differs from any fresh render: still a no-op.
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, cvat_ingress_hostname="cvat2.lab.local"))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    after = {n: secret_data(lab, n, ns)[0]["metadata"]["resourceVersion"] for n in before}
    assert after == before


def test_superuser_made_once_without_tty_password_on_stdin(lab, tmp_path):
    """Simulated exec (see the module docstring): the real server pod, the exact kubectl command, the guard."""
    ns = lab["NAMESPACE"]
    pods = kubectl_json(
        lab, "get", "pods", "-n", ns, "-l", "tier=backend,component=server,app.kubernetes.io/instance=cvat"
    )
    running = [p["metadata"]["name"] for p in pods["items"] if p["status"].get("phase") == "Running"]
    assert running, pods
    superuser = {
        "cvat_superuser_username": "admin",
        "cvat_superuser_email": "admin@example.org",
        "cvat_superuser_password": SUPERUSER_PASSWORD,
        "cvat_ingress_hostname": "cvat2.lab.local",  # the release as the first test left it
    }
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, **superuser))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    probe, create = exec_calls(lab)
    kubectl_prefix = [lab["FAKE_KUBECTL"], "--kubeconfig", lab["KUBECONFIG"], "exec"]
    assert probe["argv"][:12] == [
        *kubectl_prefix,
        "--namespace",
        ns,
        probe["argv"][6],
        "--container",
        "cvat-backend",
        "--",
        "python",
        "manage.py",
    ]
    assert probe["argv"][6] in running and probe["argv"][12:14] == ["shell", "--command"]
    assert 'filter(username="admin")' in probe["argv"][14] and probe["stdin"] == ""
    assert create["argv"][:5] == [*kubectl_prefix, "--stdin"]
    assert create["argv"][5:11] == ["--namespace", ns, probe["argv"][6], "--container", "cvat-backend", "--"]
    assert create["argv"][11:13] == ["sh", "-c"] and create["argv"][14:] == ["sh", "admin", "admin@example.org"]
    assert create["stdin"] == SUPERUSER_PASSWORD + "\n"
    assert all(SUPERUSER_PASSWORD not in arg for call in (probe, create) for arg in call["argv"])
    users = [json.loads(line) for line in Path(lab["USERS"]).read_text().splitlines()]
    assert users == [{"username": "admin", "email": "admin@example.org", "password": SUPERUSER_PASSWORD}]

    # The guard: the user exists, so only the probe runs (also under --check).
    for flags in ((), ("--check",)):
        rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, **superuser), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])
    calls = exec_calls(lab)[2:]
    assert len(calls) == 2 and all("createsuperuser" not in " ".join(c["argv"]) for c in calls), calls

    # -vvv with --diff while a user is made: no password in any form.
    other = superuser | {"cvat_superuser_username": "admin2"}
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, **other), "-vvv", "--diff")
    assert rc == 0, out[-4000:]
    assert "ESTABLISH LOCAL CONNECTION" in out
    assert leaked(out, SUPERUSER_PASSWORD, lab["PASSWORD"], *PASSWORDS.values()) == []
    assert [u["username"] for u in map(json.loads, Path(lab["USERS"]).read_text().splitlines())] == ["admin", "admin2"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"cvat_postgresql_password": ""}, "cvat_postgresql_password"),
        ({"cvat_postgresql_replication_password": ""}, "cvat_postgresql_replication_password"),
        ({"cvat_redis_password": ""}, "cvat_redis_password"),
        ({"cvat_postgresql_existing_secret": "nowhere"}, "cvat_postgresql_existing_secret"),
        ({"cvat_backend_data_claim": "no-such-claim"}, "cvat_backend_data_claim"),
        ({"cvat_nuclio_enabled": True}, "cvat_nuclio_registry_url"),
        ({"cvat_chart_version": ""}, "cvat_chart_version"),
        ({"cvat_chart_source": "git"}, "cvat_chart_source"),
        ({"cvat_ingress_hostname": "Not A Host"}, "cvat_ingress_hostname"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    rc, stats, out = run_role(
        lab, tmp_path, "cvat", variables(lab, cvat_namespace=lab["BAD_NS"], cvat_backend_data_claim="") | change
    )
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
    assert kubectl(lab, "get", "namespace", lab["BAD_NS"]).returncode != 0, "nothing was made"


def test_second_release_in_a_namespace_is_refused(lab, tmp_path):
    ns = lab["NAMESPACE"]
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, cvat_release_name="cvat2"))
    assert rc != 0 and stats.get("changed", 0) == 0, out[-3000:]
    assert "cvat_namespace" in out and "cvat.opa.composeCompatibleServiceName" in out and "cvat" in out, out[-3000:]
    assert helm(lab, "status", "cvat2", "-n", ns).returncode != 0
    assert kubectl(lab, "get", "secret", "cvat2-postgresql-auth", "-n", ns).returncode != 0


def test_existing_secret_without_its_keys_is_refused(lab, tmp_path):
    ns = lab["EXT_NS"]
    kubectl(lab, "create", "secret", "generic", "half-pg", "-n", ns, "--from-literal=password=x", check=True)
    change = {
        "cvat_namespace": ns,
        "cvat_postgresql_existing_secret": "half-pg",
        "cvat_postgresql_host": "db.example.org",
    }
    change |= {k: "" for k in PASSWORDS if k.startswith("cvat_postgresql")}
    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab) | change)
    assert rc != 0 and stats.get("changed", 0) == 0, out[-3000:]
    assert "cvat_postgresql_existing_secret: Secret half-pg lacks the keys database, username" in out, out[-3000:]


def test_external_databases_existing_secrets_nuclio_traefik_then_absent(lab, tmp_path):
    ns = lab["EXT_NS"]
    kubectl(
        lab,
        "create",
        "secret",
        "generic",
        "my-pg",
        "-n",
        ns,
        "--from-literal=database=cvatdb",
        "--from-literal=username=cvatuser",
        f"--from-literal=password=ext-{RUN}",
        check=True,
    )
    kubectl(lab, "create", "secret", "generic", "my-redis", "-n", ns, f"--from-literal=password=extr-{RUN}", check=True)
    ext = (
        variables(lab)
        | {k: "" for k in PASSWORDS}
        | {
            "cvat_namespace": ns,
            "cvat_backend_data_claim": "",
            "cvat_postgresql_host": "pg.example.org",
            "cvat_postgresql_port": 6432,
            "cvat_postgresql_existing_secret": "my-pg",
            "cvat_redis_host": "redis.example.org",
            "cvat_redis_existing_secret": "my-redis",
            "cvat_nuclio_enabled": True,
            "cvat_nuclio_registry_url": "registry.example.org:5000",
            "cvat_nuclio_registry_username": "nuclio",
            "cvat_nuclio_registry_password": NUCLIO_PASSWORD,
            "cvat_analytics_enabled": True,
            "cvat_traefik_enabled": True,
            "cvat_traefik_external_ips": ["10.77.0.250"],
            "cvat_ingress_enabled": False,
            "cvat_values": {
                "cvat": {
                    "kvrocks": {"defaultStorage": {"enabled": False}},
                    "backend": {"defaultStorage": {"enabled": False}, "permissionFix": {"enabled": False}},
                }
            },
        }
    )
    # The chart from a directory this time (helm dependency update, version checked against Chart.yaml).
    # A copy: dependency builds write into the chart directory.
    ext |= {"cvat_chart_source": "path", "cvat_chart_path": str(shutil.copytree(CHART_DIR, tmp_path / "cvat"))}
    rc, stats, out = run_role(lab, tmp_path, "cvat", ext)
    assert rc == 0, out[-6000:]
    values = values_of(lab, "cvat", ns)
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["external"] == {
        "host": "pg.example.org",
        "port": 6432,
    }
    assert values["postgresql"]["secret"] == {"create": False, "name": "my-pg"}
    assert values["redis"]["enabled"] is False and values["redis"]["external"] == {"host": "redis.example.org"}
    assert values["redis"]["secret"] == {"create": False, "name": "my-redis"}
    assert values["nuclio"] == {
        "enabled": True,
        "registry": {"secretName": "cvat-nuclio-registry", "loginUrl": "registry.example.org:5000"},
    }
    assert values["analytics"]["enabled"] is True
    assert leaked(json.dumps(values), NUCLIO_PASSWORD) == []
    server = deployments(lab, ns)["cvat-backend-server"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in server["env"]}
    assert env["CVAT_POSTGRES_HOST"]["value"] == "pg.example.org" and env["CVAT_POSTGRES_PORT"]["value"] == "6432"
    assert env["CVAT_POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "my-pg", "key": "password"}
    assert env["CVAT_REDIS_INMEM_HOST"]["value"] == "redis.example.org"
    assert env["CVAT_REDIS_INMEM_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "my-redis", "key": "password"}
    assert unresolved_secret_refs(lab, ns) == []
    for gone in ("statefulset/cvat-postgresql", "statefulset/cvat-redis-master", "secret/cvat-postgresql-auth"):
        assert kubectl(lab, "get", gone, "-n", ns).returncode != 0, gone
    registry, data = secret_data(lab, "cvat-nuclio-registry", ns)
    assert registry["type"] == "kubernetes.io/dockerconfigjson"
    auth = json.loads(data[".dockerconfigjson"])["auths"]["registry.example.org:5000"]
    assert (auth["username"], auth["password"]) == ("nuclio", NUCLIO_PASSWORD)
    assert kubectl_json(lab, "get", "deployment", "cvat-nuclio-dashboard", "-n", ns)
    assert kubectl_json(lab, "get", "statefulset", "cvat-clickhouse", "-n", ns)
    traefik = kubectl_json(lab, "get", "service", "cvat-traefik", "-n", ns)
    assert (traefik["spec"]["type"], traefik["spec"]["externalIPs"]) == ("LoadBalancer", ["10.77.0.250"])
    rc, stats, out = run_role(lab, tmp_path, "cvat", ext)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]

    gone = ext | {"cvat_state": "absent"}
    rc, stats, out = run_role(lab, tmp_path, "cvat", gone)
    assert rc == 0 and stats.get("changed") == 2, out[-4000:]  # the release, the role's Secret
    assert helm(lab, "status", "cvat", "-n", ns).returncode != 0
    assert kubectl(lab, "get", "secret", "cvat-nuclio-registry", "-n", ns).returncode != 0
    for kept in ("my-pg", "my-redis"):  # the user's Secrets stay
        assert kubectl(lab, "get", "secret", kept, "-n", ns).returncode == 0, kept
    assert deployments(lab, ns) == {}
    rc, stats, out = run_role(lab, tmp_path, "cvat", gone)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


def old_selector_chart(tmp_path):
    """A copy of the fixture whose backend Deployments select on one more label, as older charts' did (an older
    chart version: the role upgrades on a changed version or values)."""
    chart = tmp_path / "cvat-old"
    shutil.copytree(CHART_DIR, chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta["version"] = "2.0.0"
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    template = chart / "templates" / "backend.yaml"
    text = template.read_text()
    for indent in (" " * 6, " " * 8):
        old = f"{indent}tier: backend\n{indent}component: {{{{ $c.component }}}}\n"
        assert text.count(old) >= 1, indent
        text = text.replace(old, old + f'{indent}legacy-selector: "yes"\n')
    template.write_text(text)
    return chart


def test_immutable_selector_recovery_is_opt_in(lab, tmp_path):
    ns = lab["IMM_NS"]
    apply(lab, claim_objects(ns, lab["PV"] + "-imm", "cvat-data"))
    made = run_role(
        lab,
        tmp_path,
        "cvat",
        variables(lab, cvat_namespace=ns, cvat_values={"cvat": {"kvrocks": {"defaultStorage": {"enabled": False}}}})
        | {
            "cvat_chart_source": "path",
            "cvat_chart_path": str(old_selector_chart(tmp_path)),
            "cvat_chart_version": "2.0.0",
        },
    )
    assert made[0] == 0, made[2][-4000:]
    old = deployments(lab, ns)
    assert old["cvat-backend-server"]["spec"]["selector"]["matchLabels"]["legacy-selector"] == "yes"

    rc, stats, out = run_role(lab, tmp_path, "cvat", variables(lab, cvat_namespace=ns))
    assert rc != 0 and "field is immutable" in out and "cvat_recreate_deployments_on_immutable" in out, out[-4000:]
    assert {n: d["metadata"]["uid"] for n, d in deployments(lab, ns).items()} == {
        n: d["metadata"]["uid"] for n, d in old.items()
    }, "nothing deleted without the opt-in"

    rc, stats, out = run_role(
        lab, tmp_path, "cvat", variables(lab, cvat_namespace=ns, cvat_recreate_deployments_on_immutable=True)
    )
    assert rc == 0 and stats.get("rescued") == 1, out[-4000:]
    new = deployments(lab, ns)
    assert set(new) == set(old)
    assert "legacy-selector" not in new["cvat-backend-server"]["spec"]["selector"]["matchLabels"]
    assert all(new[n]["metadata"]["uid"] != old[n]["metadata"]["uid"] for n in new if n.startswith("cvat-backend-"))
    assert json.loads(helm(lab, "status", "cvat", "-n", ns, "-o", "json").stdout)["info"]["status"] == "deployed"
    rc, stats, out = run_role(
        lab, tmp_path, "cvat", variables(lab, cvat_namespace=ns, cvat_recreate_deployments_on_immutable=True)
    )
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
