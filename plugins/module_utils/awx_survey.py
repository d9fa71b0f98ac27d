# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX job template surveys generated from a role's meta/argument_specs.yml (one source of truth).

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
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|private_key)(_|$)")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMPLATED = re.compile(r"{{|{%")


def _is_literal(value):
    return not (isinstance(value, str) and _TEMPLATED.search(value))


def _description(option):
    text = option.get("description", "")
    if isinstance(text, list):
        text = " ".join(str(t) for t in text)
    return str(text).strip()


def question(name, option):
    """The survey question for one option, or None when it is too complex for a survey."""
    kind = option.get("type", "str")
    choices = option.get("choices")
    default = option.get("default")
    has_default = "default" in option and default is not None and _is_literal(default)
    q = {
        "question_name": name,
        "question_description": _description(option)[:1000],
        "variable": name,
        "required": bool(option.get("required", False)),
        "new_question": True,
    }
    if kind in ("str", "path") and choices:
        q.update(type="multiplechoice", choices=[str(c) for c in choices])
        if has_default and str(default) in q["choices"]:
            q["default"] = str(default)
    elif kind == "str" and (option.get("no_log") or _SECRET_NAME.search(name)):
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


def survey(argument_spec, name, description="", include=None, exclude=()):
    """(survey spec, skipped option names) for the options of one argument_specs entry point.

    include: only these options (in this order); exclude: never these.
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
        if not _VARIABLE.match(variable):
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
