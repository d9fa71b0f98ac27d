# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the devstats role (documented in the *.yml files here).

DevStats' chart (cncf/devstats-helm) is installed in stages, one Helm release per stage, each with every
template switched off by a skipXYZ flag except the ones of its stage. These filters turn the role's list of
stages into those releases' values, so nobody writes a skip list by hand.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

# Every skip flag of the chart that a stage switches on or off (upstream's full list; skipNamespaces is always
# set: the role makes the namespace itself).
SKIP_FLAGS = (
    "Secrets",
    "PVs",
    "BackupsPV",
    "Vacuum",
    "Backups",
    "Bootstrap",
    "Provisions",
    "Crons",
    "Affiliations",
    "Grafanas",
    "Services",
    "Postgres",
    "Ingress",
    "Static",
    "API",
    "Namespaces",
)

# stage -> (skip flags it keeps off, index ranges its from/to set, resource components, extra values, helm waits)
# The index ranges bound project indexes (0..300) or domain indexes (0..4); "to" is exclusive, as in the chart.
STAGES = {
    "secrets": {"keep": (), "ranges": (), "components": (), "values": {}, "release": False},
    "backups-pv": {"keep": ("BackupsPV",), "ranges": (), "components": ()},
    # claims only: with a WaitForFirstConsumer class (openebs-hostpath) they bind when the projects' pods use them
    "pvcs": {"keep": ("PVs",), "ranges": ("PVs",), "components": (), "wait": False},
    "patroni": {"keep": ("Postgres",), "ranges": (), "components": ("Postgres",)},
    "statics": {"keep": ("Static",), "ranges": ("Statics",), "components": ("Statics",)},
    "ingress": {"keep": ("Ingress",), "ranges": ("Domains",), "components": ()},
    "bootstrap": {"keep": ("Bootstrap",), "ranges": (), "components": ("Bootstrap",), "wait": False},
    "backups": {"keep": ("Backups",), "ranges": (), "components": ("Backups",)},
    "projects": {
        "keep": ("Provisions", "Crons", "Affiliations", "Grafanas", "Services"),
        "ranges": ("Provisions", "Crons", "Affiliations", "Grafanas", "Services"),
        "components": ("Provisions", "Crons", "Affiliations", "Grafanas"),
        "wait": False,
    },
    "reports": {"keep": (), "ranges": (), "components": ("Reports",), "values": {"reportsPod": 1}},
    "api": {"keep": ("API",), "ranges": (), "components": ("API",)},
    "vacuum": {"keep": ("Vacuum",), "ranges": (), "components": ("Vacuum",)},
}
# The order the stages are installed in, whatever the order of the list (Patroni before what uses it, the
# bootstrap before the projects).
ORDER = (
    "secrets",
    "backups-pv",
    "pvcs",
    "patroni",
    "statics",
    "ingress",
    "bootstrap",
    "backups",
    "projects",
    "api",
    "vacuum",
    "reports",
)
DOMAIN_RANGES = ("Domains", "Statics")
MAX_PROJECT_INDEX = 300
MAX_DOMAIN_INDEX = 4
ITEM_KEYS = ("stage", "name", "from", "to", "values", "requests", "limits", "wait")
RESOURCE_KEYS = ("cpu", "memory")
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The chart's component names in requests<Component>CPU / limits<Component>Memory, by the role's lower-case name.
COMPONENTS = {
    "postgres": "Postgres",
    "statics": "Statics",
    "bootstrap": "Bootstrap",
    "backups": "Backups",
    "provisions": "Provisions",
    "crons": "Crons",
    "affiliations": "Affiliations",
    "grafanas": "Grafanas",
    "reports": "Reports",
    "api": "API",
    "vacuum": "Vacuum",
}


def entry_dict(entry):
    """A stage entry as a dict: a bare name becomes {stage: name}."""
    if isinstance(entry, str):
        return {"stage": entry}
    if isinstance(entry, dict):
        return dict(entry)
    return None


def is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def resource_problems(where, value):
    """Problems of a {component: {cpu, memory}} mapping."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["%s must be a mapping of component to {cpu, memory}" % where]
    problems = []
    for component in sorted(value, key=str):
        spec = value[component]
        if component not in COMPONENTS:
            problems.append("%s: unknown component %r (known: %s)" % (where, component, ", ".join(sorted(COMPONENTS))))
        elif not isinstance(spec, dict) or set(spec) - set(RESOURCE_KEYS):
            problems.append("%s.%s must be a mapping with cpu and/or memory" % (where, component))
        else:
            problems.extend(
                "%s.%s.%s must be a quantity string such as 100m or 128Mi" % (where, component, key)
                for key in RESOURCE_KEYS
                if key in spec and not (isinstance(spec[key], str) and spec[key])
            )
    return problems


def range_problems(where, item, ranges):
    problems = []
    given = [k for k in ("from", "to") if k in item]
    if given and not ranges:
        return ["%s: stage %s takes no from/to" % (where, item["stage"])]
    top = MAX_DOMAIN_INDEX if ranges and ranges[0] in DOMAIN_RANGES else MAX_PROJECT_INDEX
    for key in given:
        if not is_integer(item[key]) or not 0 <= item[key] <= top:
            problems.append("%s: %s must be an integer from 0 to %d" % (where, key, top))
    if not problems and "from" in item and "to" in item and item["from"] > item["to"]:
        problems.append("%s: from (%d) is greater than to (%d)" % (where, item["from"], item["to"]))
    return problems


def stage_problems(stages, requests=None, limits=None):
    """Every problem with devstats_stages (and the role-wide requests/limits), each naming the entry."""
    if not isinstance(stages, list):
        return ["devstats_stages must be a list of stage names or mappings with a stage key"]
    problems = resource_problems("devstats_requests", requests) + resource_problems("devstats_limits", limits)
    names = {}
    for index, entry in enumerate(stages):
        where = "devstats_stages[%d]" % index
        item = entry_dict(entry)
        if item is None or not isinstance(item.get("stage"), str):
            problems.append("%s must be a stage name or a mapping with a stage key" % where)
            continue
        stage = item["stage"]
        if stage not in STAGES:
            problems.append("%s: unknown stage %r (known: %s)" % (where, stage, ", ".join(ORDER)))
            continue
        unknown = sorted(set(item) - set(ITEM_KEYS), key=str)
        if unknown:
            problems.append(
                "%s: unknown key(s) %s (known: %s)" % (where, ", ".join(map(str, unknown)), ", ".join(ITEM_KEYS))
            )
        name = item.get("name", stage)
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append("%s: name must be a DNS label (lower-case letters, digits, '-')" % where)
        elif name in names:
            problems.append(
                "%s: name %r is used by devstats_stages[%d] too; give one of them another name"
                % (where, name, names[name])
            )
        else:
            names[name] = index
        problems.extend(range_problems(where, item, STAGES[stage]["ranges"]))
        if "values" in item and not isinstance(item["values"], dict):
            problems.append("%s: values must be a mapping" % where)
        if "wait" in item and not isinstance(item["wait"], bool):
            problems.append("%s: wait must be true or false" % where)
        for key in ("requests", "limits"):
            if key in item:
                problems.extend(resource_problems("%s.%s" % (where, key), item[key]))
    return problems


def chart_resources(kind, component, *sources):
    """{kindComponentCPU: ..., kindComponentMemory: ...} of one chart component from the mappings given (later wins)."""
    out = {}
    for source in sources:
        for role_name, spec in (source or {}).items():
            if COMPONENTS.get(role_name) == component:
                for key, suffix in (("cpu", "CPU"), ("memory", "Memory")):
                    if key in spec:
                        out["%s%s%s" % (kind, component, suffix)] = spec[key]
    return out


def plain_copy(value):
    """A plain copy of nested dicts and lists (Ansible hands filters lazy containers)."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_copy(v) for v in value]
    return value


def merged(base, extra):
    """Recursive dict merge, later wins, lists replaced."""
    out = dict(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def releases(stages, prefix, common=None, stage_values=None, *, requests=None, limits=None):
    """The Helm releases (in install order) that devstats_stages stands for.

    Each is {stage, name, release, values, wait}: release is "<prefix>-<name>", values the chart values (every skip
    flag, the stage's index ranges and resource requests/limits, then common, the stage's role values and the
    entry's own values). The secrets stage has release None: the role makes those Secrets itself.
    """
    stages = plain_copy(stages)
    requests, limits = plain_copy(requests or {}), plain_copy(limits or {})
    problems = stage_problems(stages, requests, limits)
    if problems:
        raise AnsibleFilterError("devstats_releases: " + "; ".join(problems))
    stage_values = plain_copy(stage_values or {})
    out = []
    items = [entry_dict(e) for e in stages]
    items.sort(key=lambda i: ORDER.index(i["stage"]))  # stable: entries of one stage keep their list order
    for item in items:
        spec = STAGES[item["stage"]]
        name = item.get("name", item["stage"])
        if spec.get("release") is False:
            out.append({"stage": item["stage"], "name": name, "release": None, "values": {}, "wait": True})
            continue
        values = {"skip%s" % flag: 0 if flag in spec["keep"] else 1 for flag in SKIP_FLAGS}
        for rng in spec["ranges"]:
            if "from" in item:
                values["index%sFrom" % rng] = item["from"]
            if "to" in item:
                values["index%sTo" % rng] = item["to"]
        for component in spec["components"]:
            values.update(chart_resources("requests", component, requests, item.get("requests")))
            values.update(chart_resources("limits", component, limits, item.get("limits")))
        values.update(spec.get("values", {}))
        values = merged(values, plain_copy(common or {}))
        values = merged(values, stage_values.get(item["stage"]) or {})
        values = merged(values, item.get("values") or {})
        out.append(
            {
                "stage": item["stage"],
                "name": name,
                "release": "%s-%s" % (prefix, name),
                "values": values,
                "wait": item.get("wait", spec.get("wait", True)),
            }
        )
    return out


def missing_secret_files(present, required):
    """The required NAME.secret files that `present` (file names or paths) lacks, each with its .example hint."""
    names = {p.replace("\\", "/").rsplit("/", 1)[-1] for p in (present or [])}
    missing = []
    for name in required or []:
        if name in names:
            continue
        example = name + ".example"
        if example in names:
            missing.append("%s (copy %s and put the real value in it)" % (name, example))
        else:
            missing.append("%s (no %s either)" % (name, example))
    return missing


class FilterModule(object):
    def filters(self):
        return {
            "devstats_stage_problems": stage_problems,
            "devstats_releases": releases,
            "devstats_missing_secret_files": missing_secret_files,
        }
