#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: helm_release_state
short_description: Whether a Helm release is deployed with a chart version and exactly the given values
version_added: 0.1.0
description:
  - Reads a release with C(helm list) and C(helm get values) and tells whether it is deployed (status
    C(deployed)), at O(chart_version), with exactly O(values) as its user-supplied values. Changes nothing.
  - The C(baremetal.k8s.helm_release) role runs it before M(kubernetes.core.helm) and skips that module (and its
    C(helm diff), which renders the chart) when the release is up to date; one module run per release instead of
    several helm commands.
  - The values are compared on the host and never returned, so the result carries no secret.
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str", required=True),
            chart_version=dict(type="str", default=""),
            values=dict(type="dict", default={}, no_log=True),
            kubeconfig=dict(type="path"),
            binary_path=dict(type="path", default="helm"),
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
    module.exit_json(
        changed=False,
        up_to_date=up_to_date,
        reason=reason,
        status=(listed or {}).get("status", ""),
        chart=(listed or {}).get("chart", ""),
    )


if __name__ == "__main__":
    main()
