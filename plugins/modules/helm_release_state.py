#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: helm_release_state
short_description: Whether a Helm release (and its namespace) is already as wanted
version_added: 0.1.0
description:
  - Reads a release with C(helm list) and C(helm get values) and tells whether it is deployed (status
    C(deployed)), at O(chart_version), with exactly O(values) as its user-supplied values. Changes nothing.
  - The C(baremetal.k8s.helm_release) role runs it before M(kubernetes.core.helm) and skips that module (and its
    C(helm diff), which renders the chart) when the release is up to date; one module run per release instead of
    several helm commands.
  - With O(check_namespace), it also reads the namespace with C(kubectl) and tells whether it exists with
    O(namespace_labels) and O(namespace_annotations) (other labels and annotations may be there too). Without
    C(kubectl) on the host the namespace is reported as not up to date, so the caller applies it.
  - The values are compared on the host and never returned. Give the task C(no_log) when they hold secrets, as the
    module's arguments are part of its result.
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description: The release name.
    type: str
    required: true
  namespace:
    description: The release namespace.
    type: str
    required: true
  chart_version:
    description: The chart version the release must have (empty to accept any).
    type: str
    default: ""
  values:
    description: The values the release must have been given (helm's C(get values), user-supplied only).
    type: dict
    default: {}
  kubeconfig:
    description: The kubeconfig helm uses (default helm's own, C($KUBECONFIG) or C(~/.kube/config)).
    type: path
  binary_path:
    description: The helm binary.
    type: path
    default: helm
  check_namespace:
    description: Also read the namespace and compare its labels and annotations.
    type: bool
    default: false
  namespace_labels:
    description: Labels the namespace must have (with O(check_namespace)).
    type: dict
    default: {}
  namespace_annotations:
    description: Annotations the namespace must have (with O(check_namespace)).
    type: dict
    default: {}
  kubectl_path:
    description: The kubectl binary that reads the namespace (with O(check_namespace)).
    type: str
    default: kubectl
requirements:
  - helm 3
"""

EXAMPLES = r"""
- name: Is the release already what we want?
  baremetal.k8s.helm_release_state:
    name: metallb
    namespace: metallb-system
    chart_version: 0.15.2
    values: {speaker: {frr: {enabled: false}}}
  register: metallb_state

- name: Install or upgrade only when it is not
  kubernetes.core.helm:
    name: metallb
    release_namespace: metallb-system
    chart_ref: metallb/metallb
    chart_version: 0.15.2
    release_values: {speaker: {frr: {enabled: false}}}
  when: not metallb_state.up_to_date
"""

RETURN = r"""
up_to_date:
  description: Deployed, at O(chart_version), with exactly O(values).
  returned: always
  type: bool
  sample: true
status:
  description: The release's status (C(deployed), C(failed), C(pending-upgrade), ...), empty when there is none.
  returned: always
  type: str
  sample: deployed
chart:
  description: The release's chart as helm lists it, C(<name>-<version>); empty when there is none.
  returned: always
  type: str
  sample: metallb-0.15.2
reason:
  description: Why the release is not up to date (no value is named); empty when it is.
  returned: always
  type: str
  sample: the values differ
namespace_up_to_date:
  description: The namespace exists with the wanted labels and annotations (false without O(check_namespace)).
  returned: always
  type: bool
  sample: true
namespace_reason:
  description: Why the namespace is not up to date; empty when it is.
  returned: always
  type: str
  sample: no namespace
"""

import json

from ansible.module_utils.basic import AnsibleModule


def verdict(listed, deployed_values, chart_version, values):
    """(up_to_date, reason) from helm list's entry (or None) and helm get values' dict (or None)."""
    if listed is None:
        return False, "no release"
    if listed.get("status") != "deployed":
        return False, "status %s" % listed.get("status")
    if chart_version and not str(listed.get("chart", "")).endswith("-" + chart_version):
        return False, "chart %s, not version %s" % (listed.get("chart"), chart_version)
    if (deployed_values or {}) != (values or {}):
        return False, "the values differ"
    return True, ""


def namespace_verdict(live, labels, annotations):
    """(up_to_date, reason) from the namespace as kubectl returns it (or None) and the wanted metadata."""
    if live is None:
        return False, "no namespace"
    meta = live.get("metadata") or {}
    for field, wanted in (("labels", labels), ("annotations", annotations)):
        have = meta.get(field) or {}
        differ = sorted(k for k, v in (wanted or {}).items() if have.get(k) != str(v))
        if differ:
            return False, "%s differ: %s" % (field, ", ".join(differ))
    return True, ""


def read_namespace(module, kubectl, kubeconfig, name):
    """(namespace dict or None, reason when it could not be read)."""
    binary = module.get_bin_path(kubectl)
    if not binary:
        return None, "kubectl (%s) not found" % kubectl
    cmd = [binary] + (["--kubeconfig", kubeconfig] if kubeconfig else []) + ["get", "namespace", name, "-o", "json"]
    rc, out, err = module.run_command(cmd)
    if rc != 0:
        if "NotFound" in err:
            return None, "no namespace"
        module.fail_json(msg="kubectl get namespace %s failed (rc %d): %s" % (name, rc, (err or out).strip()))
    return json.loads(out), ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str", required=True),
            chart_version=dict(type="str", default=""),
            values=dict(type="dict", default={}),
            kubeconfig=dict(type="path"),
            binary_path=dict(type="path", default="helm"),
            check_namespace=dict(type="bool", default=False),
            namespace_labels=dict(type="dict", default={}),
            namespace_annotations=dict(type="dict", default={}),
            kubectl_path=dict(type="str", default="kubectl"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    helm = [module.get_bin_path(params["binary_path"], required=True)]
    if params["kubeconfig"]:
        helm += ["--kubeconfig", params["kubeconfig"]]
    helm += ["--namespace", params["namespace"]]

    def run(*args):
        rc, out, err = module.run_command(helm + list(args))
        if rc != 0:
            module.fail_json(msg="helm %s failed (rc %d): %s" % (" ".join(args[:2]), rc, (err or out).strip()))
        try:
            return json.loads(out or "null")
        except ValueError:
            module.fail_json(msg="helm %s printed no JSON: %s" % (" ".join(args[:2]), out[:200]))

    found = [
        r
        for r in run("list", "--all", "--filter", "^%s$" % params["name"], "--output", "json") or []
        if r.get("name") == params["name"]
    ]
    listed = found[0] if found else None
    deployed_values = None
    if listed is not None and listed.get("status") == "deployed":
        deployed_values = run("get", "values", params["name"], "--output", "json")
    up_to_date, reason = verdict(listed, deployed_values, params["chart_version"], params["values"])
    ns_up_to_date, ns_reason = False, "not checked"
    if params["check_namespace"]:
        live, ns_reason = read_namespace(module, params["kubectl_path"], params["kubeconfig"], params["namespace"])
        if live is not None:
            ns_up_to_date, ns_reason = namespace_verdict(
                live, params["namespace_labels"], params["namespace_annotations"]
            )
    module.exit_json(
        namespace_up_to_date=ns_up_to_date,
        namespace_reason=ns_reason,
        changed=False,
        up_to_date=up_to_date,
        reason=reason,
        status=(listed or {}).get("status", ""),
        chart=(listed or {}).get("chart", ""),
    )


if __name__ == "__main__":
    main()
