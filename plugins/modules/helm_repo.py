#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: helm_repo
short_description: A Helm chart repository or OCI registry login, the password never on a command line
version_added: 0.2.0
description:
  - O(type=http) adds, updates or removes a Helm chart repository in helm's repository file, like
    C(helm repo add) / C(helm repo remove). O(type=oci) logs helm in to an OCI registry (or out), like
    C(helm registry login) / C(helm registry logout).
  - The password is handed to C(helm repo add --password-stdin) on standard input, so it never appears in a
    command line (C(ps), C(/proc/<pid>/cmdline), audit logs) nor in the module's output.
    M(kubernetes.core.helm_repository) passes it as C(--password=...) on the command line instead.
  - Idempotent on everything helm stores, the password included; the module reads helm's repository file
    (C(helm env HELM_REPOSITORY_CONFIG), or O(repository_config)) or registry file (C(HELM_REGISTRY_CONFIG), or
    O(registry_config)) and runs helm only when the URL, the credentials or a flag differ. A changed password is
    reported (diff shows C(<changed>), never the value).
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  name:
    description:
      - O(type=http) the repository name (charts are referenced as C(<name>/<chart>)).
      - O(type=oci) the registry, C(host[:port]) (charts are referenced as C(oci://<host>/<path>/<chart>)).
    type: str
    required: true
  type:
    description: An HTTP chart repository or an OCI registry.
    type: str
    choices: [http, oci]
    default: http
  url:
    description: Repository URL. Required with O(type=http) and O(state=present).
    type: str
  plain_http:
    description: O(type=oci) the registry speaks plain HTTP (C(--plain-http)).
    type: bool
    default: false
  username:
    description: Basic-auth user.
    type: str
  password:
    description: Basic-auth password (given to helm on standard input).
    type: str
  pass_credentials:
    description: Send the credentials to every domain the repository's index points at (C(--pass-credentials)).
    type: bool
    default: false
  insecure_skip_tls_verify:
    description: Do not verify the repository's TLS certificate.
    type: bool
    default: false
  ca_file:
    description: CA bundle to verify the repository's certificate with.
    type: path
  state:
    description: C(present) adds or updates the repository, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  binary_path:
    description: The helm binary.
    type: path
    default: helm
  chart:
    description:
      - O(type=http) with O(state=present) a chart of this repository to look for, with O(chart_version), in
        helm's cached copy of the repository's index (C(helm search repo)); the result is RV(version_cached).
        Saves a task per release when the caller refreshes the index only if the pinned version is not cached.
    type: str
  chart_version:
    description: The version of O(chart) to look for (exact).
    type: str
  repository_config:
    description: helm's repository file (C(HELM_REPOSITORY_CONFIG)); default is helm's own.
    type: path
  repository_cache:
    description: helm's repository cache directory (C(HELM_REPOSITORY_CACHE)); default is helm's own.
    type: path
  registry_config:
    description: helm's registry credentials file (C(HELM_REGISTRY_CONFIG)); default is helm's own.
    type: path
requirements:
  - helm 3 (C(helm repo add --password-stdin))
  - PyYAML on the host
notes:
  - helm stores the credentials in its repository file in clear text; helm creates it 0600 and the module keeps
    it so.
"""

EXAMPLES = r"""
- name: The vendor's private chart repository
  baremetal.k8s.helm_repo:
    name: codescoring
    url: https://registry.example.com/repository/helm/
    username: "{{ codescoring_repo_username }}"
    password: "{{ codescoring_repo_password }}"

- name: Forget it
  baremetal.k8s.helm_repo:
    name: codescoring
    state: absent

- name: Log in to the OCI registry that serves a chart (oci://registry.example.com/charts/cvat)
  baremetal.k8s.helm_repo:
    name: registry.example.com
    type: oci
    username: "{{ registry_username }}"
    password: "{{ registry_password }}"
"""

RETURN = r"""
command:
  description: The helm command that ran (the password went on standard input, never here); empty when none ran.
  returned: always
  type: str
  sample: helm repo add --force-update codescoring https://charts.example.com/ --username ci --password-stdin
version_cached:
  description:
    - O(chart) at O(chart_version) is in helm's cached index of the repository (always false in check mode when the
      repository is not added yet, and when O(chart) is not given).
  returned: always
  type: bool
  sample: true
repository:
  description: The repository as helm now stores it, the password replaced by C(********).
  returned: always
  type: dict
  sample: {name: codescoring, url: "https://registry.example.com/repository/helm/", username: ci, password: "********"}
"""

import base64
import json
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

MASK = "********"


ENV_PARAMS = {
    "repository_config": "HELM_REPOSITORY_CONFIG",
    "repository_cache": "HELM_REPOSITORY_CACHE",
    "registry_config": "HELM_REGISTRY_CONFIG",
}


def helm_env(module):
    return {var: module.params[param] for param, var in ENV_PARAMS.items() if module.params[param]}


def helm_file(module, helm, param):
    """The file helm uses for param (repository_config or registry_config)."""
    if module.params[param]:
        return module.params[param]
    var = ENV_PARAMS[param]
    rc, out, err = module.run_command([helm, "env", var], environ_update=helm_env(module))
    if rc != 0 or not out.strip():
        module.fail_json(msg="helm env %s failed: %s" % (var, err.strip()))
    return out.strip()


def registry_login(module, path, host):
    """(username, password) helm holds for host in its registry file, or None."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            auths = (json.load(handle) or {}).get("auths") or {}
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot read helm's registry file %s: %s" % (path, exc))
    auth = (auths.get(host) or {}).get("auth")
    if not auth:
        return None
    try:
        user, _sep, password = base64.b64decode(auth).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return {"name": host, "username": user, "password": password}


def read_entry(module, path, name):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        module.fail_json(msg="cannot read helm's repository file %s: %s" % (path, exc))
    for entry in data.get("repositories") or []:
        if entry.get("name") == name:
            return entry
    return None


def wanted_entry(params):
    return {
        "name": params["name"],
        "url": params["url"],
        "username": params["username"] or "",
        "password": params["password"] or "",
        "pass_credentials_all": params["pass_credentials"],
        "insecure_skip_tls_verify": params["insecure_skip_tls_verify"],
        "caFile": params["ca_file"] or "",
    }


def comparable(entry):
    if entry is None:
        return None
    keys = ("name", "url", "username", "password", "pass_credentials_all", "insecure_skip_tls_verify", "caFile")
    out = {key: entry.get(key) for key in keys}
    for key in ("username", "password", "caFile"):
        out[key] = out[key] or ""
    for key in ("pass_credentials_all", "insecure_skip_tls_verify"):
        out[key] = bool(out[key])
    return out


def masked(entry, password_changed=False):
    if entry is None:
        return {}
    shown = dict(entry)
    if shown.get("password"):
        shown["password"] = "<changed>" if password_changed else MASK
    return shown


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", choices=["http", "oci"], default="http"),
            url=dict(type="str"),
            plain_http=dict(type="bool", default=False),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            pass_credentials=dict(type="bool", default=False),
            insecure_skip_tls_verify=dict(type="bool", default=False),
            ca_file=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            binary_path=dict(type="path", default="helm"),
            repository_config=dict(type="path"),
            repository_cache=dict(type="path"),
            registry_config=dict(type="path"),
            chart=dict(type="str"),
            chart_version=dict(type="str"),
        ),
        required_together=[("username", "password"), ("chart", "chart_version")],
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = module.params
    helm = module.get_bin_path(params["binary_path"], required=True)
    if params["type"] == "oci":
        oci(module, helm)
    path = helm_file(module, helm, "repository_config")
    have = comparable(read_entry(module, path, params["name"]))
    result = {"changed": False, "command": "", "repository": masked(have)}

    if params["state"] == "present" and not params["url"]:
        module.fail_json(msg="type=http with state=present needs url")
    result["version_cached"] = False
    if params["state"] == "absent":
        if have is None:
            module.exit_json(**result)
        cmd = [helm, "repo", "remove", params["name"]]
        result.update(changed=True, repository={}, diff={"before": masked(have), "after": {}})
    else:
        want = wanted_entry(params)
        if have == want:
            result["version_cached"] = version_cached(module, helm, True)
            module.exit_json(**result)
        cmd = [helm, "repo", "add", "--force-update", params["name"], params["url"]]
        if params["username"]:
            cmd += ["--username", params["username"], "--password-stdin"]
        if params["pass_credentials"]:
            cmd.append("--pass-credentials")
        if params["insecure_skip_tls_verify"]:
            cmd.append("--insecure-skip-tls-verify")
        if params["ca_file"]:
            cmd += ["--ca-file", params["ca_file"]]
        password_changed = have is not None and have["password"] != want["password"] and bool(want["password"])
        result.update(
            changed=True,
            repository=masked(want),
            diff={"before": masked(have), "after": masked(want, password_changed)},
        )
    finish(module, cmd, result, path)
    if params["state"] == "present":
        result["version_cached"] = version_cached(module, helm, not module.check_mode)
    module.exit_json(**result)


def finish(module, cmd, result, path):
    """Run cmd (the password, if any, on stdin) unless in check mode, keep path 0600."""
    params = module.params
    result["command"] = " ".join(["helm"] + cmd[1:])
    if module.check_mode:
        return
    data = params["password"] if params["state"] == "present" and params["username"] else None
    rc, out, err = module.run_command(cmd, data=data, environ_update=helm_env(module))
    if rc != 0:
        module.fail_json(msg="%s failed (rc %d): %s" % (result["command"], rc, (err or out).strip()), **result)
    if os.path.exists(path):
        os.chmod(path, 0o600)


def version_cached(module, helm, added):
    """Whether chart at chart_version is in helm's cached index of the repository (added: it is in helm's file)."""
    params = module.params
    if not (params["chart"] and added):
        return False
    ref = "%s/%s" % (params["name"], params["chart"])
    cmd = [helm, "search", "repo", ref, "--version", params["chart_version"] or "", "--output", "json"]
    rc, out, _err = module.run_command(cmd, environ_update=helm_env(module))
    if rc != 0:
        return False
    try:
        found = json.loads(out or "[]")
    except ValueError:
        return False
    return any(entry.get("name") == ref and entry.get("version") == params["chart_version"] for entry in found)


def oci(module, helm):
    params = module.params
    path = helm_file(module, helm, "registry_config")
    host = params["name"]
    have = registry_login(module, path, host)
    result = {"changed": False, "command": "", "repository": masked(have), "version_cached": False}
    if params["state"] == "absent":
        if have is None:
            module.exit_json(**result)
        cmd = [helm, "registry", "logout", host]
        result.update(changed=True, repository={}, diff={"before": masked(have), "after": {}})
    else:
        if not params["username"]:
            module.fail_json(msg="type=oci with state=present needs username and password (a registry login)")
        want = {"name": host, "username": params["username"], "password": params["password"]}
        if have == want:
            module.exit_json(**result)
        cmd = [helm, "registry", "login", host, "--username", params["username"], "--password-stdin"]
        if params["plain_http"]:
            cmd.append("--plain-http")
        if params["insecure_skip_tls_verify"]:
            cmd.append("--insecure")
        if params["ca_file"]:
            cmd += ["--ca-file", params["ca_file"]]
        password_changed = have is not None and have["password"] != want["password"]
        result.update(
            changed=True,
            repository=masked(want),
            diff={"before": masked(have), "after": masked(want, password_changed)},
        )
    finish(module, cmd, result, path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
