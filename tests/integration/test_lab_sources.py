"""The lab's chart and package sources, driven with real clients: helm against the basic-auth chart repo and
the OCI registry, apt-get (in a throwaway apt configuration) against the signed apt repo, the files mirror,
and the lab's helm diff plugin, also through kubernetes.core.helm in check/diff mode when the control plane is up.

Brings the sources up with tests/lab/sources/up.sh (needs root; idempotent, so it also checks the reuse path).
"""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import labenv
import pytest
import yaml

pytestmark = pytest.mark.lab  # the lab's own tests: their own tier (make lab-test), they bring parts up

REPO = labenv.REPO
LAB_DIR = labenv.LAB_DIR
UP = REPO / "tests/lab/sources/up.sh"
CHARTS = REPO / "tests/charts"
VENV_BIN = REPO / ".venv/bin"


def run(
    cmd: list[str],
    *,
    env: dict | None = None,
    stdin: str | None = None,
    check: bool = True,
    cwd: Path | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    res = subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
    )
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stdout}\n{res.stderr}")
    return res


def tiny_chart(root: Path, name: str = "labprobe", version: str = "0.1.0") -> Path:
    """A chart with a ConfigMap and a Secret, enough to exercise repos and diffs."""
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\ntype: application\n")
    (chart / "values.yaml").write_text("greeting: hello\npassword: initial-pass\n")
    (chart / "templates/objects.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-cm
        data:
          greeting: {{ .Values.greeting | quote }}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-secret
        stringData:
          password: {{ .Values.password | quote }}
        """)
    )
    (chart / "templates/hook.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-hook
          annotations:
            helm.sh/hook: post-install,post-upgrade
        data:
          release: {{ .Release.Name | quote }}
        """)
    )
    return chart


@pytest.fixture(scope="module")
def sources() -> dict:
    values = labenv.up("helm", "sources")
    values["PASSWORD"] = Path(values["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    return values


@pytest.fixture
def helm(sources, tmp_path):
    """helm with a private config/cache/data home, so tests never touch a user's repositories."""
    env = dict(os.environ)
    env.update(
        HELM_CONFIG_HOME=str(tmp_path / "hc"),
        HELM_CACHE_HOME=str(tmp_path / "hk"),
        HELM_DATA_HOME=str(tmp_path / "hd"),
        HELM_PLUGINS=sources["HELM_PLUGINS"],
    )

    def helm_run(*args: str, stdin: str | None = None, check: bool = True, extra_env: dict | None = None):
        return run([sources["LAB_HELM"], *args], env={**env, **(extra_env or {})}, stdin=stdin, check=check)

    return helm_run


def fetch(url: str, auth: tuple[str, str] | None = None) -> tuple[int, bytes]:
    assert url.startswith("http://"), url
    request = urllib.request.Request(url)  # noqa: S310 -- http only, checked above
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def served_chart_names(sources) -> set[str]:
    index = fetch(sources["LAB_CHART_REPO_URL"] + "/index.yaml", ("lab", sources["PASSWORD"]))
    assert index[0] == 200
    return set(yaml.safe_load(index[1])["entries"])


def test_chart_repo_needs_basic_auth(sources):
    url = sources["LAB_CHART_REPO_URL"] + "/index.yaml"
    assert fetch(url)[0] == 401
    assert fetch(url, ("lab", "wrong-" + sources["PASSWORD"]))[0] == 401
    assert fetch(url, ("lab", sources["PASSWORD"]))[0] == 200
    assert os.stat(sources["LAB_CHART_REPO_PASSWORD_FILE"]).st_mode & 0o777 == 0o600


def test_every_fixture_chart_is_served(sources):
    names = served_chart_names(sources)
    assert names, "the chart repo index is empty"
    expected = {yaml.safe_load(chart.read_text())["name"] for chart in CHARTS.glob("*/Chart.yaml")}
    assert expected, "no fixture charts under tests/charts"
    assert expected <= names, f"not served: {sorted(expected - names)}"


def repo_add(sources, helm, password, check=True):
    """`helm repo add` of the lab chart repo; the password goes on stdin, never on the command line."""
    url = sources["LAB_CHART_REPO_URL"]
    return helm("repo", "add", "lab", url, "--username", "lab", "--password-stdin", stdin=password, check=check)


def test_helm_repo_add_with_password_and_search(sources, helm):
    repo_add(sources, helm, sources["PASSWORD"])
    found = json.loads(helm("search", "repo", "lab/", "-o", "json").stdout)
    assert {entry["name"].removeprefix("lab/") for entry in found} == served_chart_names(sources)


def test_helm_repo_add_with_wrong_password_fails(sources, helm):
    res = repo_add(sources, helm, "not-" + sources["PASSWORD"], check=False)
    assert res.returncode != 0
    assert "401" in res.stderr


def test_helm_pull_from_oci_registry(sources, helm, tmp_path):
    index = yaml.safe_load(fetch(sources["LAB_CHART_REPO_URL"] + "/index.yaml", ("lab", sources["PASSWORD"]))[1])
    for name, entries in sorted(index["entries"].items()):
        version = entries[0]["version"]  # explicit: helm lists only strict-semver tags (no "v" prefix)
        out = tmp_path / name
        out.mkdir()
        helm("pull", f"{sources['LAB_OCI_CHARTS_URL']}/{name}", "--version", version, "--plain-http", "-d", str(out))
        pulled = list(out.glob("*.tgz"))
        assert [p.name for p in pulled] == [f"{name}-{version}.tgz"]
        assert f"name: {name}" in helm("show", "chart", str(pulled[0])).stdout
    missing = helm(
        "pull", f"{sources['LAB_OCI_CHARTS_URL']}/no-such-chart", "--plain-http", "-d", str(tmp_path), check=False
    )
    assert missing.returncode != 0


def test_oci_registry_behind_basic_auth(sources, helm, tmp_path):
    registry = sources["LAB_OCI_REGISTRY_AUTH"]
    name = sorted(served_chart_names(sources))[0]
    index = yaml.safe_load(fetch(sources["LAB_CHART_REPO_URL"] + "/index.yaml", ("lab", sources["PASSWORD"]))[1])
    version = index["entries"][name][0]["version"]
    pull = ["pull", f"oci://{registry}/charts/{name}", "--version", version, "--plain-http", "-d", str(tmp_path)]
    assert helm(*pull, check=False).returncode != 0  # anonymous pull is refused
    login = ["registry", "login", registry, "--plain-http", "-u", "lab", "--password-stdin"]
    wrong = helm(*login, stdin="wrong-" + sources["PASSWORD"], check=False)
    assert wrong.returncode != 0 and "401" in wrong.stderr
    helm(*login, stdin=sources["PASSWORD"])
    helm(*pull)
    assert (tmp_path / f"{name}-{version}.tgz").exists()


def apt_config(tmp: Path, repo_url: str, key: bytes, suite: str = "/") -> list[str]:
    """apt-get options that keep state, cache and sources in tmp; only the given key is trusted. suite "/" is a
    flat repository (pkgs.k8s.io); otherwise "<suite> <components>", e.g. "bookworm stable"."""
    for sub in (
        "etc/sources.list.d",
        "etc/preferences.d",
        "etc/trusted.gpg.d",
        "state/lists/partial",
        "cache/archives/partial",
    ):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    keyring = tmp / "lab-apt-keyring.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--dearmor"], input=key, capture_output=True, check=True).stdout)
    (tmp / "etc/sources.list").write_text(f"deb [signed-by={keyring}] {repo_url} {suite}\n")
    return [
        "-o",
        f"Dir::Etc={tmp}/etc",
        "-o",
        f"Dir::State={tmp}/state",
        "-o",
        f"Dir::Cache={tmp}/cache",
        "-o",
        "Dir::State::status=/var/lib/dpkg/status",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        "APT::Sandbox::User=root",
        "-o",
        "Acquire::http::Proxy=DIRECT",
    ]


def test_apt_repo_is_signed_and_serves_kubectl(sources, tmp_path):
    status, key = fetch(sources["LAB_APT_KEY_URL"])
    assert status == 200 and key.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "/core:/stable:/v1." in sources["LAB_APT_REPO_URL"]
    opts = apt_config(tmp_path, sources["LAB_APT_REPO_URL"], key)
    update = run(["apt-get", *opts, "update"])
    assert "InRelease" in update.stdout and "W:" not in update.stderr, update.stderr
    version = sources["LAB_APT_PACKAGE_VERSION"]
    assert version.endswith("-1.1")
    policy = run(["apt-cache", *opts, "policy", "kubectl"]).stdout
    assert version in policy
    (tmp_path / "dl").mkdir()
    run(["apt-get", *opts, "download", f"kubectl={version}"], cwd=tmp_path / "dl")
    debs = list((tmp_path / "dl").glob("kubectl_*.deb"))
    assert [d.name for d in debs] == [f"kubectl_{version}_amd64.deb"]
    assert "./usr/bin/kubectl" in run(["dpkg-deb", "-c", str(debs[0])]).stdout


def test_apt_repo_with_wrong_key_fails_verification(sources, tmp_path):
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    run(
        [
            "gpg",
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "not the lab <x@bmk8s.invalid>",
            "ed25519",
            "sign",
            "never",
        ],
        env=env,
    )
    other_key = run(["gpg", "--batch", "--armor", "--export"], env=env).stdout.encode()
    run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
    opts = apt_config(tmp_path / "apt", sources["LAB_APT_REPO_URL"], other_key)
    res = run(["apt-get", *opts, "update"], check=False)
    assert res.returncode != 0
    assert "NO_PUBKEY" in res.stdout + res.stderr or "not signed" in res.stderr


def test_files_mirror_helm_tarball_matches_checksum(sources, tmp_path):
    version = sources["LAB_HELM_VERSION"]
    name = f"helm-{version}-linux-amd64.tar.gz"
    for base in (f"{sources['LAB_FILES_URL']}/helm/{version}", f"{sources['LAB_FILES_URL']}/helm"):
        status, tarball = fetch(f"{base}/{name}")
        assert status == 200
        status, sumfile = fetch(f"{base}/{name}.sha256sum")
        assert status == 200
        digest, filename = sumfile.decode().split()
        assert filename == name
        assert hashlib.sha256(tarball).hexdigest() == digest == sources["LAB_HELM_TARBALL_SHA256"]
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        archive.extract("linux-amd64/helm", tmp_path, filter="data")
    out = run([str(tmp_path / "linux-amd64/helm"), "version", "--short"]).stdout
    assert out.startswith(version + "+")


def test_files_mirror_kubernetes_binaries_match_checksums(sources):
    """The mirror serves the binaries the control plane part builds (kubeadm, kubelet, kubectl)."""
    labenv.up("controlplane")  # builds them
    sources = labenv.up("sources", again=True)  # links what was built into the mirror
    base = f"{sources['LAB_FILES_URL']}/kubernetes/release/{os.environ.get('LAB_K8S_VERSION', 'v1.33.13')}"
    for name in ("kubeadm", "kubelet", "kubectl"):
        status, binary = fetch(f"{base}/bin/linux/amd64/{name}")
        assert status == 200
        assert fetch(f"{base}/bin/linux/amd64/{name}.sha256")[1].decode().strip() == hashlib.sha256(binary).hexdigest()


def test_helm_diff_plugin_installs_from_the_mirror(sources, helm, tmp_path):
    """The tarball has the upstream release layout (diff/plugin.yaml, diff/bin/diff): offline installs unpack
    it into HELM_PLUGINS, as the helm role does."""
    listed = helm("plugin", "list").stdout
    assert f"diff\t{sources['LAB_HELM_DIFF_VERSION']}" in listed.replace(" ", "")
    url = f"{sources['LAB_FILES_URL']}/helm-diff/v{sources['LAB_HELM_DIFF_VERSION']}/helm-diff-linux-amd64.tgz"
    status, tarball = fetch(url)
    assert status == 200
    assert fetch(url + ".sha256")[1].decode().strip() == hashlib.sha256(tarball).hexdigest()
    plugins = tmp_path / "plugins"
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        assert sorted(archive.getnames()) == ["diff", "diff/bin", "diff/bin/diff", "diff/plugin.yaml"]
        archive.extractall(plugins, filter="data")
    out = helm("diff", "version", extra_env={"HELM_PLUGINS": str(plugins)}).stdout.strip()
    assert out == sources["LAB_HELM_DIFF_VERSION"]


def test_sources_answer_on_the_lab_bridge(helm, tmp_path):
    """Lab hosts reach the sources on the bridge address: chart repo (auth), apt repo, and the registry via nginx."""
    labenv.up("hosts")
    sources = labenv.up("helm", "sources", again=True)  # now listening on the bridge too
    sources["PASSWORD"] = Path(sources["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    assert fetch(sources["LAB_CHART_REPO_URL_BRIDGE"] + "/index.yaml")[0] == 401
    assert fetch(sources["LAB_CHART_REPO_URL_BRIDGE"] + "/index.yaml", ("lab", sources["PASSWORD"]))[0] == 200
    assert fetch(sources["LAB_APT_REPO_URL_BRIDGE"] + "InRelease")[0] == 200
    name = sorted(served_chart_names(sources))[0]
    index = yaml.safe_load(fetch(sources["LAB_CHART_REPO_URL"] + "/index.yaml", ("lab", sources["PASSWORD"]))[1])
    version = index["entries"][name][0]["version"]
    ref = f"oci://{sources['LAB_OCI_REGISTRY_BRIDGE']}/charts/{name}"
    helm("pull", ref, "--version", version, "--plain-http", "-d", str(tmp_path))
    assert (tmp_path / f"{name}-{version}.tgz").exists()


def test_second_up_reuses_the_running_servers(sources):
    pids = [(LAB_DIR / "sources" / p).read_text() for p in ("nginx.pid", "registry.pid")]
    started = time.monotonic()
    run([str(UP)], timeout=600)
    assert time.monotonic() - started < 60
    assert [(LAB_DIR / "sources" / p).read_text() for p in ("nginx.pid", "registry.pid")] == pids


def test_diff_plugin_go_unit_tests():
    if shutil.which("go") is None:
        pytest.fail("go is not on PATH: the lab's helm part builds the helm-diff plugin with it (install Go first)")
    res = run(["go", "test", "./..."], cwd=REPO / "tests/lab/helm/diffplugin", timeout=600)
    assert "ok" in res.stdout


# --- helm diff against the lab's API server -------------------------------------------------------------


@pytest.fixture(scope="module")
def kubeconfig() -> str:
    return labenv.up("controlplane")["KUBECONFIG"]


@pytest.fixture
def release(sources, helm, kubeconfig, tmp_path):
    chart = tiny_chart(tmp_path / "src")
    namespace = "diff-" + uuid.uuid4().hex[:8]
    kube = {"KUBECONFIG": kubeconfig, "HELM_NAMESPACE": namespace}
    helm("install", "probe", str(chart), "--create-namespace", extra_env=kube)
    yield chart, namespace, kube
    helm("uninstall", "probe", "--wait", extra_env=kube, check=False)
    run(
        [sources["LAB_LAYER_KUBECTL"], "--kubeconfig", kubeconfig, "delete", "namespace", namespace, "--wait=false"],
        check=False,
    )


def test_helm_diff_upgrade_reports_only_real_changes(helm, release):
    chart, kube = release[0], release[2]
    same = helm("diff", "upgrade", "probe", str(chart), "--reset-values=True", extra_env=kube)
    assert same.stdout.strip() == ""
    changed = helm(
        "diff", "upgrade", "probe", str(chart), "--set", "greeting=bye", "--set", "password=new-pass", extra_env=kube
    ).stdout
    assert "probe-cm, ConfigMap" in changed and '+   greeting: "bye"' in changed
    assert "probe-secret, Secret" in changed
    assert "new-pass" not in changed and "initial-pass" not in changed
    code = helm(
        "diff",
        "upgrade",
        "probe",
        str(chart),
        "--set",
        "greeting=bye",
        "--detailed-exitcode",
        extra_env=kube,
        check=False,
    )
    assert code.returncode == 2


def test_kubernetes_core_helm_check_mode_uses_the_diff_plugin(sources, release, tmp_path):
    chart, namespace, kube = release
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Same values
              kubernetes.core.helm:
                name: probe
                chart_ref: {chart}
                release_namespace: {namespace}
                binary_path: {sources["LAB_HELM"]}
              register: same
            - name: Changed values
              kubernetes.core.helm:
                name: probe
                chart_ref: {chart}
                release_namespace: {namespace}
                binary_path: {sources["LAB_HELM"]}
                values: {{greeting: changed}}
              register: changed
            - name: Report
              ansible.builtin.copy:
                content: "{{{{ {{'same': same.changed, 'changed': changed.changed,
                           'diff': changed.diff | default({{}})}} | to_json }}}}"
                dest: {tmp_path}/result.json
              check_mode: false
        """)
    )
    env = {**os.environ, **kube, "HELM_PLUGINS": sources["HELM_PLUGINS"], "ANSIBLE_NOCOLOR": "1"}
    run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "--check",
            "--diff",
            str(playbook),
        ],
        env=env,
        cwd=REPO,
    )
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["same"] is False
    assert result["changed"] is True
    prepared = result["diff"]["prepared"]  # only helm diff output fills this
    assert "probe-cm, ConfigMap () has changed:" in prepared and '+   greeting: "changed"' in prepared
