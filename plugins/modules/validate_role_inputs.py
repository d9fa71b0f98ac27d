#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: validate_role_inputs
short_description: Check the inventory against several of this collection's roles' argument specs at once
version_added: 0.3.0
description:
  - Reads C(meta/argument_specs.yml) of each named role of baremetal.k8s and validates the values this host has for
    those roles' variables (inventory, extra vars), templated, reporting every error of every role in one failure
    whose message names the role and the variable.
  - C(baremetal.k8s.preflight) runs it for the cluster roles, so a bad value fails before any host changes instead of
    when a playbook reaches that role.
  - A value built from a role default that is not loaded yet cannot be templated here and is left to the role's own
    check when it runs.
  - Runs on the controller only (action plugin); it changes nothing.
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  roles:
    description: Role names within baremetal.k8s.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Check the inventory for the cluster roles before any change
  baremetal.k8s.validate_role_inputs:
    roles: [node_prep, containerd, kubernetes_packages]
"""

RETURN = r"""
checked:
  description: Per role, the variables this host sets that were checked.
  returned: always
  type: dict
  sample: {"containerd": ["containerd_install_method", "containerd_sandbox_image"]}
argument_errors:
  description: The errors, each prefixed with its role.
  returned: on failure
  type: list
  elements: str
  sample: ["containerd: value of containerd_install_method must be one of: distro, docker, release, got: podman"]
"""
