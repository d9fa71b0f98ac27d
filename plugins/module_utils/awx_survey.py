# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX objects made from the collection's own files, checked with AWX's own rules (no AWX needed):
job template surveys from a role's meta/argument_specs.yml (one source of truth), custom credential types, a job
template's credentials, and the roles a playbook runs.

Mapping of an argument spec option to a survey question:
  str with choices            multiplechoice
  str, no_log or secret-named password
  str / path                  text (textarea when the default has several lines)
  int / float                 integer / float
  bool                        multiplechoice "true" / "false" (Ansible reads those strings as booleans)
  list with choices           multiselect
  anything else (dict, raw, list without choices): left to extra vars, returned in `skipped`.

validate() checks a survey against the rules AWX applies when a survey spec is saved (awx/api/views,
JobTemplateSurveySpec._validate_spec_data and the API's job_template_survey_spec.md): name and description
strings, a non-empty spec list, each question a dict with string type/question_name/variable and boolean
required, unique variables, known types, defaults of the question's type, integer min/max, choices for the choice
types with defaults among them (one for multiplechoice), and "$encrypted$" only for password defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

TYPES = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": float,
}
SECRET_NAME = re.compile(r"(password|passwd|secret|token|private_key)(_|$)")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TEMPLATED = re.compile(r"{{|{%")


def is_literal(value):
    return not (isinstance(value, str) and TEMPLATED.search(value))


def describe(option):
    text = option.get("description", "")
    if isinstance(text, list):
        text = " ".join(str(t) for t in text)
    return str(text).strip()


def question(name, option):
    """The survey question for one option, or None when it is too complex for a survey."""
    kind = option.get("type", "str")
    choices = option.get("choices")
    default = option.get("default")
    has_default = "default" in option and default is not None and is_literal(default)
    q = {
        "question_name": name,
        "question_description": describe(option)[:1000],
        "variable": name,
        "required": bool(option.get("required", False)),
        "new_question": True,
    }
    if kind in ("str", "path") and choices:
        q.update(type="multiplechoice", choices=[str(c) for c in choices])
        if has_default and str(default) in q["choices"]:
            q["default"] = str(default)
    elif kind == "str" and (option.get("no_log") or SECRET_NAME.search(name)):
        q.update(type="password")  # never a default: secrets come from credentials or the operator
    elif kind in ("str", "path"):
        text = "" if default is None else str(default)
        q.update(type="textarea" if "\n" in text else "text")
        if has_default and text:
            q["default"] = text
    elif kind == "int":
        q.update(type="integer")
        if has_default and isinstance(default, int) and not isinstance(default, bool):
            q["default"] = default
    elif kind == "float":
        q.update(type="float")
        if has_default and isinstance(default, (int, float)) and not isinstance(default, bool):
            q["default"] = float(default)
    elif kind == "bool":
        q.update(type="multiplechoice", choices=["true", "false"])
        if has_default and isinstance(default, bool):
            q["default"] = "true" if default else "false"
    elif kind == "list" and choices:
        q.update(type="multiselect", choices=[str(c) for c in choices])
        if has_default and isinstance(default, list) and all(str(d) in q["choices"] for d in default):
            q["default"] = "\n".join(str(d) for d in default)
    else:
        return None
    return q


def survey(argument_spec, name, description="", include=None, exclude=(), *, only_with_default=False):
    """(survey spec, skipped option names) for the options of one argument_specs entry point.

    include: only these options (in this order); exclude: never these.
    only_with_default: an optional question without a literal default (a templated or absent default, a secret)
    is skipped too. AWX turns a blank answer into an empty or null extra var that beats the role's default and
    the inventory, so a survey meant to be launched untouched asks only what it can prefill.
    """
    options = (argument_spec or {}).get("options") or {}
    names = list(include) if include else list(options)
    unknown = [n for n in names if n not in options]
    if unknown:
        raise ValueError("not options of the argument spec: %s" % ", ".join(unknown))
    spec, skipped = [], []
    for option_name in names:
        if option_name in exclude:
            continue
        q = question(option_name, options[option_name] or {})
        if q is not None and only_with_default and not q["required"] and "default" not in q:
            q = None
        if q is None:
            skipped.append(option_name)
        else:
            spec.append(q)
    return {"name": name, "description": description, "spec": spec}, skipped


def validate(spec):
    """Every problem AWX would refuse in this survey spec (empty when it would accept it)."""
    problems = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if field not in spec:
            problems.append("field '%s' is missing from the survey spec" % field)
        elif not isinstance(spec[field], kind):
            problems.append("field '%s' must be a %s" % (field, kind.__name__))
    items = spec.get("spec")
    if not isinstance(items, list):
        return problems
    if not items:
        problems.append("'spec' has no questions")
    seen = set()
    for idx, item in enumerate(items):
        where = "question %d" % idx
        if not isinstance(item, dict):
            problems.append("%s is not an object" % where)
            continue
        missing = False
        for field in ("type", "question_name", "variable", "required"):
            want = bool if field == "required" else str
            if field not in item:
                problems.append("%s: '%s' is missing" % (where, field))
                missing = True
            elif not isinstance(item[field], want):
                problems.append("%s: '%s' must be a %s" % (where, field, want.__name__))
                missing = True
        if missing:
            continue
        variable, qtype = item["variable"], item["type"]
        where = "question %d (%s)" % (idx, variable)
        if not VARIABLE.match(variable):
            problems.append("%s: the variable is not a valid Ansible variable name" % where)
        if variable in seen:
            problems.append("%s: the variable is duplicated" % where)
        seen.add(variable)
        if qtype not in TYPES:
            problems.append("%s: type '%s' is not one of %s" % (where, qtype, ", ".join(TYPES)))
            continue
        default = item.get("default", "")
        if default != "" and (not isinstance(default, TYPES[qtype]) or isinstance(default, bool)):
            problems.append("%s: the default must be a %s" % (where, TYPES[qtype].__name__))
        for key in ("min", "max"):
            if item.get(key) is not None and (not isinstance(item[key], int) or isinstance(item[key], bool)):
                problems.append("%s: %s must be an integer" % (where, key))
        if qtype in ("text", "textarea", "password", "integer", "float") and default != "":
            size = len(default) if isinstance(default, str) else default
            if isinstance(item.get("min"), int) and size < item["min"]:
                problems.append("%s: the default is below min" % where)
            if isinstance(item.get("max"), int) and size > item["max"]:
                problems.append("%s: the default is above max" % where)
        if qtype in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            if choices is None:
                problems.append("%s: type %s must list choices" % (where, qtype))
                continue
            if isinstance(choices, str):
                choices = [c for c in choices.splitlines() if c.strip()]
            if not choices:
                problems.append("%s: the choices are empty" % where)
            if "default" in item and item["default"] != "":
                defaults = item["default"].splitlines() if isinstance(item["default"], str) else item["default"]
                if qtype == "multiplechoice" and len(defaults) > 1:
                    problems.append("%s: a multiplechoice question has one default" % where)
                if any(d not in choices for d in defaults):
                    problems.append("%s: the default must be among the choices" % where)
        if isinstance(default, str) and default.startswith("$encrypted$") and qtype != "password":
            problems.append("%s: $encrypted$ is reserved for password defaults" % where)
    return problems


# Custom credential types: the rules AWX applies when one is saved (awx/main/fields.py CredentialTypeInputField and
# CredentialTypeInjectorField, awx/api/serializers.py CredentialTypeSerializer.validate, awx/main/constants.py
# ENV_BLOCKLIST), and the variables a type's injectors set.

NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
EXTRA_VAR_KEY = re.compile(r"^[a-zA-Z_{}]+[a-zA-Z0-9_{}]*$")
FILE_KEY = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
FIELD_KEYS = (
    "type",
    "format",
    "choices",
    "id",
    "label",
    "help_text",
    "multiline",
    "secret",
    "ask_at_runtime",
    "default",
)
STRING_ONLY = ("choices", "multiline", "format", "secret")
ENV_BLOCKLIST = frozenset(
    (
        "VIRTUAL_ENV",
        "PATH",
        "PYTHONPATH",
        "JOB_ID",
        "INVENTORY_ID",
        "INVENTORY_SOURCE_ID",
        "INVENTORY_UPDATE_ID",
        "AD_HOC_COMMAND_ID",
        "REST_API_URL",
        "REST_API_TOKEN",
        "MAX_EVENT_RES",
        "CALLBACK_QUEUE",
        "CALLBACK_CONNECTION",
        "CACHE",
        "JOB_CALLBACK_DEBUG",
        "INVENTORY_HOSTVARS",
        "AWX_HOST",
        "PROJECT_REVISION",
        "SUPERVISOR_CONFIG_PATH",
    )
)


def template_names(text):
    """The top-level names a Jinja template reads (jinja2 is a controller dependency of ansible-core)."""
    from jinja2 import meta, sandbox  # noqa: PLC0415 - imported here so this module imports without jinja2

    env = sandbox.ImmutableSandboxedEnvironment()
    return meta.find_undeclared_variables(env.parse(text))


def injector_templates(injectors):
    """(where, template) for every string an AWX injector renders, keys of extra_vars included."""
    out = []
    for kind in ("file", "env"):
        for key, value in (injectors.get(kind) or {}).items():
            out.append(("%s.%s" % (kind, key), value))

    def walk(where, node):
        if isinstance(node, dict):
            for key, value in node.items():
                out.append(("%s key %s" % (where, key), key))
                walk("%s.%s" % (where, key), value)
        elif isinstance(node, list):
            for idx, value in enumerate(node):
                walk("%s[%d]" % (where, idx), value)
        else:
            out.append((where, node))

    walk("extra_vars", injectors.get("extra_vars") or {})
    return out


def credential_type_problems(credential_type):
    """Every problem AWX would refuse in a custom credential type {name, kind, inputs, injectors}."""
    problems = []
    name = credential_type.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("the credential type has no name")
    label = "credential type %s" % name
    if credential_type.get("kind") not in ("cloud", "net"):
        problems.append("%s: kind must be 'cloud' or 'net' for a custom type" % label)
    inputs = credential_type.get("inputs") or {}
    injectors = credential_type.get("injectors") or {}
    if set(inputs) - {"fields", "required"}:
        problems.append("%s: inputs allow only fields and required" % label)
    ids = []
    for idx, field in enumerate(inputs.get("fields") or []):
        where = "%s: input field %d" % (label, idx)
        if not isinstance(field, dict):
            problems.append("%s is not an object" % where)
            continue
        fid = field.get("id")
        if not isinstance(fid, str) or not NAME.match(fid):
            problems.append("%s: id %r is an invalid variable name" % (where, fid))
        elif fid == "tower":
            problems.append('%s: "tower" is a reserved field name' % where)
        elif fid in ids:
            problems.append("%s: field IDs must be unique (%s)" % (where, fid))
        ids.append(fid)
        if not isinstance(field.get("label"), str):
            problems.append("%s (%s): label is required" % (where, fid))
        unknown = sorted(set(field) - set(FIELD_KEYS))
        if unknown:
            problems.append("%s (%s): unknown keys %s" % (where, fid, ", ".join(unknown)))
        ftype = field.get("type", "string")
        if ftype not in ("string", "boolean"):
            problems.append("%s (%s): type must be string or boolean" % (where, fid))
            continue
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}[ftype]):
            problems.append("%s (%s): the default is not a %s" % (where, fid, ftype))
        problems.extend(
            "%s (%s): %s not allowed for boolean type" % (where, fid, key)
            for key in STRING_ONLY
            if key in field and ftype != "string"
        )
        if field.get("format") not in (None, "ssh_private_key", "url"):
            problems.append("%s (%s): format must be ssh_private_key or url" % (where, fid))
        if field.get("ask_at_runtime"):
            problems.append("%s (%s): ask_at_runtime is not supported for custom credentials" % (where, fid))
    problems.extend(
        "%s: required names %s, which is not an input field" % (label, req)
        for req in inputs.get("required") or []
        if req not in ids
    )
    if set(injectors) - {"file", "env", "extra_vars"}:
        problems.append("%s: injectors allow only file, env and extra_vars" % label)
    files = list(injectors.get("file") or {})
    problems.extend("%s: file injector key %s is invalid" % (label, key) for key in files if not FILE_KEY.match(key))
    if "template" in files and len(files) > 1:
        problems.append("%s: must use multi-file syntax when injecting multiple files" % label)
    for key in injectors.get("env") or {}:
        if not NAME.match(key):
            problems.append("%s: env %s is not a valid variable name" % (label, key))
        elif key.startswith("ANSIBLE_"):
            problems.append("%s: env %s may affect Ansible configuration, AWX refuses it" % (label, key))
        elif key in ENV_BLOCKLIST:
            problems.append("%s: env %s is not allowed in credentials" % (label, key))

    def keys_ok(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str) or not EXTRA_VAR_KEY.match(key):
                    problems.append("%s: extra_vars key %s at %s is invalid" % (label, key, where))
                keys_ok(value, "%s.%s" % (where, key))
        elif isinstance(node, list):
            for value in node:
                keys_ok(value, where)
        elif not isinstance(node, str):
            problems.append("%s: extra_vars value at %s must be a string template" % (label, where))

    keys_ok(injectors.get("extra_vars") or {}, "extra_vars")
    known = set(ids) | {"tower"}
    for where, text in injector_templates(injectors):
        if not isinstance(text, str):
            continue
        if where.startswith("env.") and not all(ord(c) < 128 for c in text):
            problems.append("%s: %s must be ASCII" % (label, where))
        from jinja2.exceptions import TemplateSyntaxError  # noqa: PLC0415 - see template_names

        try:
            names = template_names(text)
        except TemplateSyntaxError as err:
            problems.append("%s: syntax error in %s (%s)" % (label, where, err))
            continue
        unknown = sorted(names - known)
        if unknown:
            problems.append("%s: %s uses an undefined field (%s)" % (label, where, ", ".join(unknown)))
        if "tower" in names and not files:
            problems.append("%s: %s references tower.filename without a file injector" % (label, where))
    return problems


def injected_variables(injectors):
    """{'extra_vars': [top-level names], 'env': [names]} that a credential type's injectors set."""
    return {
        "extra_vars": sorted((injectors.get("extra_vars") or {}).keys()),
        "env": sorted((injectors.get("env") or {}).keys()),
    }


def credential_conflicts(credentials):
    """AWX's rule for a job template's credentials: at most one per credential type (vault: per vault_id).

    credentials: [{name, credential_type, vault_id? or inputs.vault_id?}]; returns the problems (never an input value
    other than the vault id)."""
    seen, problems = {}, []
    for cred in credentials:
        vault_id = cred.get("vault_id") or (cred.get("inputs") or {}).get("vault_id") or ""
        key = (cred.get("credential_type"), str(vault_id))
        if key in seen:
            problems.append(
                "credentials %s and %s are both of type %s: AWX assigns one per type"
                % (seen[key], cred.get("name"), key[0] + (" (vault id %s)" % key[1] if key[1] else ""))
            )
        else:
            seen[key] = cred.get("name")
    return problems


# Playbooks: the collection roles a playbook runs (its roles: lists, include_role/import_role in its tasks and in the
# task files it includes with a literal path, and the playbooks it imports).

ROLE_ACTIONS = ("include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role")
TASKS_ACTIONS = ("include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks")
IMPORT_ACTIONS = ("import_playbook", "ansible.builtin.import_playbook")


def short_role(name, namespace="baremetal.k8s."):
    return name[len(namespace) :] if name.startswith(namespace) else name


def task_roles(tasks, base, read, seen):
    found = []
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always"):
            found += task_roles(task.get(key), base, read, seen)
        for action in ROLE_ACTIONS:
            args = task.get(action)
            if isinstance(args, dict) and isinstance(args.get("name"), str):
                found.append(short_role(args["name"]))
        for action in TASKS_ACTIONS:
            args = task.get(action)
            path = args.get("file") if isinstance(args, dict) else args
            if isinstance(path, str) and not TEMPLATED.search(path):
                full = path if path.startswith("/") else base + "/" + path
                if full not in seen:
                    seen.add(full)
                    found += task_roles(read(full), full.rsplit("/", 1)[0], read, seen)
    return found


def playbook_roles(path, read, seen=None):
    """The roles (short names, in order, once each) that the playbook at path runs. read(path) -> parsed YAML."""
    seen = set() if seen is None else seen
    base = path.rsplit("/", 1)[0]
    found = []
    for play in read(path) or []:
        if not isinstance(play, dict):
            continue
        imported = next((play[a] for a in IMPORT_ACTIONS if a in play), None)
        if isinstance(imported, str):
            full = imported if imported.startswith("/") else base + "/" + imported
            if full not in seen:
                seen.add(full)
                found += playbook_roles(full, read, seen)
            continue
        for role in play.get("roles") or []:
            name = role.get("role", role.get("name")) if isinstance(role, dict) else role
            if isinstance(name, str):
                found.append(short_role(name))
        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            found += task_roles(play.get(key), base, read, seen)
    return list(dict.fromkeys(found))
