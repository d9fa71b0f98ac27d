"""playbooks/awx_configure.yml without an AWX: export mode (awx_configure_export_dir) writes every object the playbook
would send as JSON and contacts no AWX, so the objects themselves are checked here - a job template per playbook, each
survey accepted by AWX's survey rules, credential types accepted by AWX's rules and injecting only variables the
collection reads (in the shape its argument specs declare), no secret in any survey, file or output - and the
playbook's refusals. Needs no lab. Not proven here: AWX accepting and running these objects (no AWX on this machine).
"""

import json
import os
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from ansible_collections.baremetal.k8s.plugins.module_utils import awx_survey

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "awx_configure.yml"
CHART_SECRET = "awx-cfg-Chart-Secret-41"
MACHINE_KEY = "awx-cfg-Machine-Key-Line-93"
VAULT_SECRET = "awx-cfg-Vault-Pass-17"
TOKEN = "awx-cfg-Controller-Token-58"
SECRETS = (CHART_SECRET, MACHINE_KEY, VAULT_SECRET, TOKEN)


def run(tmp_path: Path, *flags: str, extra: dict, env: dict | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(extra))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLLER_", "TOWER_"))}
    environ |= {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg")} | (env or {})
    return subprocess.run(
        [str(REPO / ".venv/bin/ansible-playbook"), str(PLAYBOOK), "-e", f"@{path}", *flags],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def variables(export_dir, **extra) -> dict:
    return {
        "awx_configure_export_dir": str(export_dir),
        "awx_configure_project_scm_url": "https://git.example.org/infra/baremetal-k8s.git",
        "awx_configure_ee_image": "registry.example.org/baremetal-k8s-ee:0.1.0",
        "awx_configure_controller_oauthtoken": TOKEN,
        "awx_configure_credentials": [
            {
                "name": "charts",
                "credential_type": "baremetal.k8s chart repository",
                "inputs": {"url": "https://charts.example.org", "username": "deploy", "password": CHART_SECRET},
            },
            {
                "name": "hosts",
                "credential_type": "Machine",
                "inputs": {
                    "username": "root",
                    "ssh_key_data": f"-----BEGIN KEY-----\n{MACHINE_KEY}\n-----END KEY-----\n",
                },
            },
            {
                "name": "devstats-secrets",
                "credential_type": "Vault",
                "inputs": {"vault_id": "devstats", "vault_password": VAULT_SECRET},
                "job_templates": ["site"],
            },
        ],
        "awx_configure_survey_exclude": ["node_prep_swap_disable"],  # as if the inventory set it
    } | extra


def load(root: Path, kind: str) -> dict:
    return {json.loads(p.read_text())["name"]: json.loads(p.read_text()) for p in sorted((root / kind).glob("*.json"))}


def role_specs() -> dict:
    """{variable: option spec} over every role's meta/argument_specs.yml."""
    out = {}
    for path in sorted((REPO / "roles").glob("*/meta/argument_specs.yml")):
        out |= yaml.safe_load(path.read_text())["argument_specs"]["main"].get("options") or {}
    return out


def read_by_collection(name: str) -> bool:
    """Some role or playbook of the collection (not the AWX configuration) uses the variable."""
    files = [
        p
        for p in [
            *REPO.glob("roles/*/**/*.yml"),
            *REPO.glob("roles/*/templates/**/*"),
            *REPO.glob("playbooks/**/*.yml"),
        ]
        if p.is_file() and "awx_configure" not in p.parts and p.name != "awx_configure.yml"
    ]
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return any(pattern.search(p.read_text(errors="replace")) for p in files)


class Export(NamedTuple):
    out: Path
    proc: subprocess.CompletedProcess
    tmp: Path


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Export:
    tmp = tmp_path_factory.mktemp("awx")
    out = tmp / "export"
    proc = run(tmp, "-vvv", extra=variables(out))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return Export(out, proc, tmp)


def test_syntax_check():
    proc = subprocess.run(
        [str(REPO / ".venv/bin/ansible-playbook"), "--syntax-check", str(PLAYBOOK)],
        cwd=REPO,
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_playbook_has_a_job_template(exported):
    out = exported.out
    templates = load(out, "job_templates")
    playbooks = {p.stem for p in (REPO / "playbooks").glob("*.yml")} - {"awx_configure"}
    assert {t["playbook"] for t in templates.values()} == {f"playbooks/{p}.yml" for p in playbooks}
    assert {"site", "cluster", "addons", "upgrade", "reset", "patroni_tune", "render"} <= playbooks
    for t in templates.values():
        assert t["description"] and "  " not in t["description"]
        assert (t["project"], t["inventory"], t["execution_environment"]) == (
            "baremetal.k8s",
            "baremetal.k8s",
            "baremetal.k8s EE",
        )
        assert {"charts", "hosts"} <= set(t["credentials"])
        assert ("devstats-secrets" in t["credentials"]) == (t["playbook"] == "playbooks/site.yml")
    (project,) = load(out, "project").values()
    assert (project["organization"], project["scm_type"], project["scm_branch"]) == ("Default", "git", "main")
    (source,) = load(out, "inventory_source").values()
    assert (source["source"], source["source_project"], source["source_path"]) == (
        "scm",
        "baremetal.k8s",
        "inventories/sample/hosts.yml",
    )


def test_every_survey_passes_awx_rules_and_comes_from_the_specs(exported):
    out = exported.out
    specs = role_specs()
    templates = load(out, "job_templates")
    for name, t in templates.items():
        survey = t["survey_spec"]
        assert t["survey_enabled"] is bool(survey), name
        if not survey:
            continue
        assert awx_survey.validate(survey) == [], name
        for q in survey["spec"]:
            # a question without a default is one the operator must answer
            assert "default" in q or q["required"], (name, q["variable"])
            assert q["type"] != "password" or "default" not in q, (name, q["variable"])
            option = specs.get(q["variable"])
            if option is not None:
                assert not option.get("no_log"), (name, q["variable"])
    site = {q["variable"]: q for q in templates["baremetal.k8s site"]["survey_spec"]["spec"]}
    assert site["containerd_install_method"]["type"] == "multiplechoice"
    assert "calico_repo" not in site and "node_prep_swap_disable" not in site
    reset = {q["variable"]: q for q in templates["baremetal.k8s reset"]["survey_spec"]["spec"]}
    assert reset["reset_confirm"] | {"choices": sorted(reset["reset_confirm"]["choices"])} == reset["reset_confirm"] | {
        "type": "multiplechoice",
        "required": True,
        "default": "no",
        "choices": ["no", "yes"],
    }
    upgrade = {q["variable"]: q for q in templates["baremetal.k8s upgrade"]["survey_spec"]["spec"]}
    assert upgrade["kubernetes_version"]["required"] is True and "default" not in upgrade["kubernetes_version"]
    addons = templates["baremetal.k8s addons"]
    assert "metallb_pools" in addons["description"]  # a dict: listed for the inventory, not asked


def test_credential_types_pass_awx_rules_and_feed_what_the_roles_read(exported):
    out = exported.out
    types = load(out, "credential_types")
    assert set(types) == {
        "baremetal.k8s chart repository",
        "baremetal.k8s image registry",
        "baremetal.k8s Patroni REST user",
    }
    specs = role_specs()
    for name, ct in types.items():
        assert awx_survey.credential_type_problems(ct) == [], name
        secret_inputs = {f["id"] for f in ct["inputs"]["fields"] if f.get("secret")}
        assert secret_inputs, name
        injected = awx_survey.injected_variables(ct["injectors"])
        assert injected["extra_vars"] and not injected["env"], name
        for var in injected["extra_vars"]:
            assert read_by_collection(var), (name, var)
            value = ct["injectors"]["extra_vars"][var]
            # the shape the role declares: a <role>_repo is what helm_release_repo takes
            option = specs["helm_release_repo"] if var.endswith("_repo") else specs.get(var, {})
            sub = option.get("options")
            for item in value if isinstance(value, list) else [value]:
                if sub and isinstance(item, dict):
                    assert set(item) <= set(sub), (name, var, set(item) - set(sub))
                    required = {k for k, o in sub.items() if o.get("required")}
                    assert required <= set(item), (name, var)
    repo_roles = {v.removesuffix("_repo") for v in types["baremetal.k8s chart repository"]["injectors"]["extra_vars"]}
    defaults = {
        p.parent.parent.name: yaml.safe_load(p.read_text()) or {} for p in REPO.glob("roles/*/defaults/main.yml")
    }
    # every role with a chart repository of its own (helm_release_repo: {} is the per-release input, never injected)
    assert repo_roles == {
        r for r, d in defaults.items() if isinstance(d.get(f"{r}_repo"), dict) and "url" in d[f"{r}_repo"]
    }
    assert "helm_release" not in repo_roles
    assert {"calico", "openebs", "cert_manager"} <= repo_roles


def test_no_secret_is_written_or_printed(exported):
    out, proc = exported.out, exported.proc
    written = "".join(p.read_text() for p in out.rglob("*.json"))
    for secret in SECRETS:
        assert secret not in written
        assert secret not in proc.stdout + proc.stderr
    creds = load(out, "credentials")
    assert creds["charts"]["input_names"] == ["password", "url", "username"]
    assert all(stat.st_mode & 0o077 == 0 for stat in (p.stat() for p in out.rglob("*.json")))


def test_a_rerun_changes_nothing(exported):
    out, tmp = exported.out, exported.tmp
    proc = run(tmp, extra=variables(out))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", proc.stdout), proc.stdout[-2000:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"awx_configure_export_dir": "relative/dir"}, "awx_configure_export_dir must be an absolute directory"),
        ({"awx_configure_project_scm_url": ""}, "awx_configure_project_scm_url must be a git URL"),
        ({"awx_configure_ee_image": ""}, "awx_configure_ee_image must name"),
        (
            {"awx_configure_inventory_source_path": "../hosts.yml"},
            "awx_configure_inventory_source_path must be a path inside",
        ),
        ({"awx_configure_export_dir": ""}, "set awx_configure_controller_host or CONTROLLER_HOST"),
        ({"awx_configure_chart_repo_roles": ["node_prep"]}, "awx_configure_chart_repo_roles lists roles without"),
        (
            {
                "awx_configure_credentials": [
                    {"name": "a", "credential_type": "Machine"},
                    {"name": "b", "credential_type": "Machine"},
                ]
            },
            "credentials a and b are both of type Machine",
        ),
        ({"awx_configure_credentials": [{"name": "a"}]}, "credential_type"),
    ],
)
def test_bad_input_fails_before_anything_is_written(tmp_path, change, message):
    out = tmp_path / "export"
    extra = variables(out) | change
    proc = run(tmp_path, extra=extra)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr, proc.stdout[-3000:]
    assert not out.exists()
    assert TOKEN not in proc.stdout + proc.stderr
