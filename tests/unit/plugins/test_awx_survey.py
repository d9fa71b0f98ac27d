"""AWX surveys from the roles' argument specs: the mapping, and the checks AWX applies when a survey is saved."""

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.awx import FilterModule
from ansible_collections.baremetal.k8s.plugins.module_utils.awx_survey import survey, validate

F = FilterModule().filters()
ROLES = sorted(
    p.parent.parent for p in (Path(__file__).resolve().parents[3] / "roles").glob("*/meta/argument_specs.yml")
)

SPEC = {
    "options": {
        "app_method": {"type": "str", "choices": ["distro", "release"], "default": "distro", "description": "How."},
        "app_admin_password": {"type": "str", "required": True, "description": "Admin password."},
        "app_key": {"type": "str", "no_log": True, "default": "changeme"},
        "app_host": {"type": "str", "default": "example.org"},
        "app_url": {"type": "str", "default": "https://{{ app_host }}/"},
        "app_motd": {"type": "str", "default": "line one\nline two"},
        "app_dir": {"type": "path", "default": "/srv/app"},
        "app_replicas": {"type": "int", "default": 2},
        "app_ratio": {"type": "float", "default": 1},
        "app_enabled": {"type": "bool", "default": False},
        "app_features": {"type": "list", "elements": "str", "choices": ["a", "b", "c"], "default": ["a", "c"]},
        "app_hosts": {"type": "list", "elements": "str", "default": []},
        "app_values": {"type": "dict", "default": {}},
        "app_anything": {"type": "raw"},
    }
}


def by_variable(spec):
    return {q["variable"]: q for q in spec["spec"]}


def test_mapping_of_each_option_type():
    spec, skipped = survey(SPEC, "app")
    q = by_variable(spec)
    assert (q["app_method"]["type"], q["app_method"]["choices"], q["app_method"]["default"]) == (
        "multiplechoice",
        ["distro", "release"],
        "distro",
    )
    assert q["app_admin_password"]["type"] == "password" and q["app_admin_password"]["required"] is True
    assert q["app_key"]["type"] == "password" and "default" not in q["app_key"]  # never a secret default
    assert (q["app_host"]["type"], q["app_host"]["default"]) == ("text", "example.org")
    assert "default" not in q["app_url"]  # a templated default stays with the role
    assert (q["app_motd"]["type"], q["app_motd"]["default"]) == ("textarea", "line one\nline two")
    assert (q["app_dir"]["type"], q["app_dir"]["default"]) == ("text", "/srv/app")
    assert (q["app_replicas"]["type"], q["app_replicas"]["default"]) == ("integer", 2)
    assert q["app_ratio"]["type"] == "float" and isinstance(q["app_ratio"]["default"], float)
    assert (q["app_enabled"]["type"], q["app_enabled"]["choices"], q["app_enabled"]["default"]) == (
        "multiplechoice",
        ["true", "false"],
        "false",
    )
    assert (q["app_features"]["type"], q["app_features"]["default"]) == ("multiselect", "a\nc")
    assert skipped == ["app_hosts", "app_values", "app_anything"]
    assert q["app_method"]["question_description"] == "How."
    assert validate(spec) == []


def test_include_and_exclude():
    spec, skipped = survey(SPEC, "app", include=["app_replicas", "app_host", "app_values"], exclude=["app_host"])
    assert [q["variable"] for q in spec["spec"]] == ["app_replicas"] and skipped == ["app_values"]
    with pytest.raises(ValueError, match="app_nope"):
        survey(SPEC, "app", include=["app_nope"])


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_role_argument_spec_gives_a_survey_awx_accepts(role):
    entry = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]
    result = F["awx_survey"](entry, role.name, "baremetal.k8s." + role.name)
    questions = {q["variable"] for q in result["survey"]["spec"]}
    assert questions | set(result["skipped"]) == set(entry["options"])
    assert not questions & set(result["skipped"])
    for q in result["survey"]["spec"]:
        option = entry["options"][q["variable"]]
        if option.get("no_log"):
            assert q["type"] == "password" and "default" not in q


GOOD = {
    "name": "s",
    "description": "",
    "spec": [{"type": "text", "question_name": "q", "variable": "v", "required": False}],
}


def broken(change):
    spec = copy.deepcopy(GOOD)
    change(spec)
    return spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (broken(lambda s: s.pop("description")), "'description' is missing"),
        (broken(lambda s: s.update(name=1)), "'name' must be a str"),
        (broken(lambda s: s.update(spec=[])), "has no questions"),
        (broken(lambda s: s["spec"].append("x")), "question 1 is not an object"),
        (broken(lambda s: s["spec"][0].pop("required")), "'required' is missing"),
        (broken(lambda s: s["spec"][0].update(required="yes")), "'required' must be a bool"),
        (broken(lambda s: s["spec"].append(dict(s["spec"][0]))), "duplicated"),
        (broken(lambda s: s["spec"][0].update(variable="bad-name")), "not a valid Ansible variable"),
        (broken(lambda s: s["spec"][0].update(type="checkbox")), "type 'checkbox' is not one of"),
        (broken(lambda s: s["spec"][0].update(type="integer", default="3")), "default must be a int"),
        (broken(lambda s: s["spec"][0].update(type="float", default=3)), "default must be a float"),
        (broken(lambda s: s["spec"][0].update(min="1")), "min must be an integer"),
        (broken(lambda s: s["spec"][0].update(max=3, default="longer")), "above max"),
        (broken(lambda s: s["spec"][0].update(type="integer", min=5, default=1)), "below min"),
        (broken(lambda s: s["spec"][0].update(type="multiplechoice")), "must list choices"),
        (broken(lambda s: s["spec"][0].update(type="multiplechoice", choices=["a"], default="b")), "among the choices"),
        (broken(lambda s: s["spec"][0].update(type="multiplechoice", choices="a\nb", default="a\nb")), "one default"),
        (
            broken(lambda s: s["spec"][0].update(type="multiselect", choices=["a"], default=["a", "z"])),
            "among the choices",
        ),
        (broken(lambda s: s["spec"][0].update(default="$encrypted$")), "reserved for password"),
    ],
)
def test_validate_applies_awx_rules(spec, message):
    assert validate(GOOD) == []
    problems = validate(spec)
    assert any(message in p for p in problems), problems


def test_filter_refuses_what_awx_would_refuse():
    bad = {"options": {"bad-name": {"type": "str"}}}
    with pytest.raises(AnsibleFilterError, match="not a valid Ansible variable"):
        F["awx_survey"](bad, "x")
