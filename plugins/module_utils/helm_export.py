# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What helm_release's export mode writes for one release: its chart reference and its merged values, with every
secret replaced by a reference that names where the secret comes from (pure logic, unit-tested)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from shlex import quote
except ImportError:  # pragma: no cover
    from pipes import quote


class ExportError(Exception):
    pass


def secret_ref(release, where):
    """The string that stands in an export for a secret: where to take it from, never the secret."""
    return "SECRET(%s: %s)" % (release, where)


def _plain(obj):
    """A plain copy of nested dicts and lists (Ansible hands filters lazily templated containers that copy.deepcopy
    must not be given)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _split(path):
    parts = str(path).split(".")
    if not path or any(p == "" for p in parts):
        raise ExportError("helm_release_secret_paths: %r is not a dotted path such as auth.password" % (path,))
    return parts


def redact(values, paths, release):
    """A copy of values with the value at each dotted path replaced by a secret reference. Paths holding the same
    secret get the same reference (the first path's), so a chart's "must match" checks pass on the export too. A path
    that is not in the values is an error: a misspelt path would otherwise export the secret it meant to hide."""
    out = _plain(values if values is not None else {})
    first_path_of = []  # (secret value, the first path holding it)
    for path in paths or []:
        node = out
        parts = _split(path)
        for i, part in enumerate(parts):
            key = part
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                key = int(part)
            elif not isinstance(node, dict) or part not in node:
                raise ExportError(
                    "helm_release_secret_paths: %s is not in the values of release %s (at %s)"
                    % (path, release, ".".join(parts[: i + 1]))
                )
            if i == len(parts) - 1:
                same = [first for secret, first in first_path_of if secret == node[key]]
                if not same:
                    first_path_of.append((node[key], path))
                node[key] = secret_ref(release, "values " + (same[0] if same else path))
            else:
                node = node[key]
    return out


def _chart_reference(spec):
    source = spec.get("source") or "repo"
    ref = {"source": source, "chart": spec["chart"]}
    if spec.get("chart_version"):
        ref["version"] = str(spec["chart_version"])
    if source == "repo":
        repo = spec.get("repo") or {}
        ref["repository"] = {"name": repo.get("name"), "url": repo.get("url")}
        if repo.get("username"):
            ref["repository"]["username"] = repo["username"]
        if repo.get("password"):
            ref["repository"]["password"] = secret_ref(spec["release"], "repository password")
    elif source == "oci":
        login = spec.get("oci_login") or {}
        if login:
            ref["registry_login"] = {
                "registry": login.get("registry"),
                "username": login.get("username"),
                "password": secret_ref(spec["release"], "registry password"),
            }
        if spec.get("plain_http"):
            ref["plain_http"] = True
    return ref


def _template_command(spec, ref, values_file):
    source = ref["source"]
    if source == "repo":
        chart = "%s/%s" % (ref["repository"]["name"], ref["chart"])
    else:
        chart = ref["chart"]
    argv = ["helm", "template", spec["name"], chart, "--namespace", spec["namespace"]]
    if ref.get("version"):
        argv += ["--version", ref["version"]]
    if source == "oci" and ref.get("plain_http"):
        argv.append("--plain-http")
    if not spec.get("skip_crds"):
        argv.append("--include-crds")
    argv += ["--values", values_file]
    return " ".join(quote(a) for a in argv)


def export(spec, values_file="values.yaml"):
    """spec: the release as helm_release's variables give it (name, namespace, source, chart, chart_version, repo,
    oci_login, plain_http, values, secret_paths, values_contain_secrets, create_namespace, namespace_labels,
    namespace_annotations, image_pull_secrets, atomic, wait, timeout, skip_crds). Returns (release, values)."""
    for key in ("name", "namespace", "chart"):
        if not spec.get(key):
            raise ExportError("helm_release_%s is required" % key)
    spec = dict(spec, release="%s/%s" % (spec["namespace"], spec["name"]))
    paths = spec.get("secret_paths") or []
    if spec.get("values_contain_secrets") and not paths:
        raise ExportError(
            "release %s: helm_release_values_contain_secrets is set, so the export needs helm_release_secret_paths "
            "(the dotted paths of the secret values) to leave them out" % spec["release"]
        )
    values = redact(spec.get("values") or {}, paths, spec["release"])
    ref = _chart_reference(spec)
    release = {
        "name": spec["name"],
        "namespace": spec["namespace"],
        "chart": ref,
        "values_file": values_file,
        "install": {
            "atomic": bool(spec.get("atomic", True)),
            "wait": bool(spec.get("wait", True)),
            "timeout": str(spec.get("timeout") or "10m"),
            "skip_crds": bool(spec.get("skip_crds", False)),
        },
    }
    if spec.get("create_namespace", True):
        release["namespace_object"] = {
            "labels": dict(spec.get("namespace_labels") or {}),
            "annotations": dict(spec.get("namespace_annotations") or {}),
        }
    pulls = []
    for item in spec.get("image_pull_secrets") or []:
        pulls.append(
            {
                "name": item.get("name"),
                "registry": item.get("registry"),
                "username": item.get("username"),
                "password": secret_ref(spec["release"], "image pull secret %s password" % item.get("name")),
            }
        )
    if pulls:
        release["image_pull_secrets"] = pulls
    release["helm_template"] = _template_command(spec, ref, values_file)
    return release, values
