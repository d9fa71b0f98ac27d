"""The pure logic behind roles/awx_configure: AWX's rules for custom credential types and for a job template's
credentials, the roles a playbook runs, and surveys that ask only what they can prefill."""

import copy
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.awx import FilterModule
from ansible_collections.baremetal.k8s.plugins.module_utils.awx_survey import (
    credential_conflicts,
    credential_type_problems,
    injected_variables,
    playbook_roles,
    survey,
)

F = FilterModule().filters()

GOOD_TYPE = {
    "name": "repo",
    "kind": "cloud",
    "inputs": {
        "fields": [
            {"id": "url", "label": "URL", "type": "string", "format": "url"},
            {"id": "username", "label": "User", "type": "string"},
            {"id": "password", "label": "Password", "type": "string", "secret": True},
            {"id": "name", "label": "Name", "type": "string"},
            {"id": "insecure", "label": "Insecure", "type": "boolean", "default": False},
        ],
        "required": ["url", "username", "password"],
    },
    "injectors": {
        "extra_vars": {
            "app_repo": {"name": "{{ name or 'mirror' }}", "url": "{{ url }}", "password": "{{ password }}"},
            "app_secrets": [{"registry": "{{ url }}", "username": "{{ username }}"}],
        },
        "env": {"APP_USER": "{{ username }}"},
    },
}


def changed(change):
    ct = copy.deepcopy(GOOD_TYPE)
    change(ct)
    return ct


def test_a_good_type_passes_and_says_what_it_sets():
    assert credential_type_problems(GOOD_TYPE) == []
    assert F["awx_credential_type"](GOOD_TYPE) is GOOD_TYPE
    assert injected_variables(GOOD_TYPE["injectors"]) == {
        "extra_vars": ["app_repo", "app_secrets"],
        "env": ["APP_USER"],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(kind="ssh"), "kind must be 'cloud' or 'net'"),
        (lambda c: c.update(name=""), "has no name"),
        (lambda c: c["inputs"]["fields"].append({"id": "url", "label": "again"}), "must be unique (url)"),
        (lambda c: c["inputs"]["fields"].append({"id": "tower", "label": "t"}), '"tower" is a reserved'),
        (lambda c: c["inputs"]["fields"].append({"id": "9x", "label": "x"}), "invalid variable name"),
        (lambda c: c["inputs"]["fields"].append({"id": "x"}), "label is required"),
        (lambda c: c["inputs"]["fields"].append({"id": "x", "label": "x", "type": "int"}), "string or boolean"),
        (
            lambda c: c["inputs"]["fields"].append({"id": "x", "label": "x", "type": "boolean", "secret": True}),
            "secret not allowed",
        ),
        (lambda c: c["inputs"]["fields"].append({"id": "x", "label": "x", "default": True}), "default is not a string"),
        (lambda c: c["inputs"]["fields"].append({"id": "x", "label": "x", "ask_at_runtime": True}), "ask_at_runtime"),
        (lambda c: c["inputs"]["fields"].append({"id": "x", "label": "x", "format": "email"}), "format must be"),
        (lambda c: c["inputs"]["required"].append("token"), "required names token"),
        (
            lambda c: c["injectors"]["env"].update(ANSIBLE_VAULT_PASSWORD_FILE="{{ tower.filename }}"),
            "may affect Ansible",
        ),
        (lambda c: c["injectors"]["env"].update(PATH="/x"), "not allowed in credentials"),
        (lambda c: c["injectors"]["extra_vars"].update(app_token="{{ token }}"), "undefined field (token)"),
        (
            lambda c: c["injectors"]["extra_vars"]["app_repo"].update(ca="{{ tower.filename }}"),
            "without a file injector",
        ),
        (lambda c: c["injectors"]["extra_vars"].update({"bad-name": "{{ url }}"}), "key bad-name"),
        (lambda c: c["injectors"]["extra_vars"].update(app_port=8080), "must be a string template"),
        (lambda c: c["injectors"]["extra_vars"].update(app_x="{{ url "), "syntax error"),
        (lambda c: c["injectors"].update(args=["--x"]), "injectors allow only"),
        (lambda c: c["injectors"].update(file={"template": "a", "template.b": "b"}), "multi-file syntax"),
    ],
)
def test_type_problems_follow_awx(change, message):
    problems = credential_type_problems(changed(change))
    assert any(message in p for p in problems), problems


def test_a_file_injector_makes_tower_filename_usable():
    ct = changed(lambda c: c["injectors"].update(file={"template.ca": "{{ password }}"}))
    ct["injectors"]["extra_vars"]["app_repo"]["ca"] = "{{ tower.filename.ca }}"
    assert credential_type_problems(ct) == []


def test_the_filter_fails_listing_every_problem():
    bad = changed(lambda c: c.update(kind="ssh") or c["injectors"]["env"].update(PATH="x"))
    with pytest.raises(AnsibleFilterError, match="kind must be.*PATH is not allowed"):
        F["awx_credential_type"](bad)


def test_one_credential_per_type_and_vault_id():
    creds = [
        {"name": "ssh", "credential_type": "Machine"},
        {"name": "vault-a", "credential_type": "Vault", "inputs": {"vault_id": "a", "vault_password": "s3cret-a"}},
        {"name": "vault-b", "credential_type": "Vault", "inputs": {"vault_id": "b", "vault_password": "s3cret-b"}},
    ]
    assert credential_conflicts(creds) == []
    problems = F["awx_credential_conflicts"](
        [
            *creds,
            {"name": "ssh2", "credential_type": "Machine"},
            {"name": "vault-a2", "credential_type": "Vault", "vault_id": "a"},
        ]
    )
    assert len(problems) == 2 and "ssh and ssh2" in problems[0] and "vault id a" in problems[1]
    assert not any("s3cret" in p for p in problems)


FILES = {
    "/p/site.yml": [
        {"name": "a", "ansible.builtin.import_playbook": "cluster.yml"},
        {"name": "b", "import_playbook": "addons.yml"},
    ],
    "/p/cluster.yml": [
        {
            "hosts": "all",
            "roles": [{"role": "baremetal.k8s.preflight"}, "baremetal.k8s.node_prep", {"name": "other.col.x"}],
        },
        {"hosts": "all", "tasks": [{"ansible.builtin.include_tasks": "tasks/node.yml"}]},
    ],
    "/p/tasks/node.yml": [
        {"block": [{"ansible.builtin.include_role": {"name": "baremetal.k8s.kubernetes_packages"}}]},
        {"ansible.builtin.include_tasks": {"file": "{{ templated }}.yml"}},
    ],
    "/p/addons.yml": [
        {
            "hosts": "k8s_api",
            "roles": [{"role": "baremetal.k8s.calico", "when": "x"}, {"role": "baremetal.k8s.preflight"}],
        },
        {"hosts": "k8s_api", "pre_tasks": [{"import_role": {"name": "baremetal.k8s.helm"}}]},
    ],
}


def test_playbook_roles_follow_imports_and_task_files():
    assert playbook_roles("/p/site.yml", FILES.__getitem__) == [
        "preflight",
        "node_prep",
        "other.col.x",
        "kubernetes_packages",
        "calico",
        "helm",
    ]
    assert playbook_roles("/p/tasks/node.yml", FILES.__getitem__) == []  # task files are not plays


def test_playbook_roles_filter_reads_the_real_playbooks():
    playbooks = Path(__file__).resolve().parents[3] / "playbooks"
    roles = F["awx_roles_run_by"](str(playbooks / "site.yml"))
    assert roles[0] == "preflight" and "containerd" in roles and "calico" in roles and "helm_release" not in roles
    assert F["awx_roles_run_by"](str(playbooks / "upgrade.yml")) == ["kubernetes_packages"]
    with pytest.raises(AnsibleFilterError, match="cannot read"):
        F["awx_roles_run_by"](str(playbooks / "nope.yml"))


SPEC = {
    "options": {
        "app_mode": {"type": "str", "choices": ["a", "b"], "default": "a"},
        "app_url": {"type": "str", "default": "https://{{ app_host }}/"},
        "app_host": {"type": "str"},
        "app_version": {"type": "str", "required": True},
        "app_password": {"type": "str", "no_log": True},
        "app_admin_password": {"type": "str", "required": True},
        "app_port": {"type": "int", "default": 80},
    }
}


def test_only_with_default_asks_what_a_blank_launch_can_prefill():
    spec, skipped = survey(SPEC, "app", only_with_default=True)
    assert [q["variable"] for q in spec["spec"]] == ["app_mode", "app_version", "app_admin_password", "app_port"]
    assert skipped == ["app_url", "app_host", "app_password"]
    everything = survey(SPEC, "app")[0]
    assert len(everything["spec"]) == len(SPEC["options"])


def test_the_filter_gives_no_survey_when_nothing_is_asked():
    result = F["awx_survey"]({"options": {"x": {"type": "dict"}}}, "x")
    assert result == {"survey": None, "skipped": ["x"]}
