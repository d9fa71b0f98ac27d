#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: warn
short_description: Show messages as Ansible warnings without failing
version_added: 0.1.0
description:
  - Emits each message as an Ansible warning (C([WARNING]) in the output, C(warnings) in callbacks and AWX job
    events) and never fails. Roles use it to report findings an operator asked not to be fatal, such as
    C(baremetal.k8s.preflight) with C(preflight_fail_fast=false), instead of a failed task that is then ignored.
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
  msg:
    description: One message or a list of messages; empty strings are dropped.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Report what preflight found, without failing
  baremetal.k8s.warn:
    msg: "{{ preflight_problems }}"
"""

RETURN = r"""
warned:
  description: The messages shown as warnings.
  returned: always
  type: list
  elements: str
  sample: ["only 1 CPUs; a control-plane host needs 2"]
"""
