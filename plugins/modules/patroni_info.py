#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) baremetal.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: patroni_info
short_description: Read a Patroni cluster's members, roles, states, lag, pending restarts and dynamic configuration
version_added: "0.1.0"
description:
  - Reads C(GET /cluster), each member's C(GET /patroni) (its live C(pending_restart)) and C(GET /config).
  - Sends only GET requests and never changes anything. Standard library only, so it also runs inside a
    Patroni pod.
extends_documentation_fragment:
  - baremetal.k8s.patroni
author:
  - baremetal.k8s contributors
notes:
  - A member whose REST API does not answer is listed with C(reachable=false) and a warning; the task does
    not fail.
seealso:
  - module: baremetal.k8s.patroni_config
"""

EXAMPLES = r"""
- name: Read the cluster state
  baremetal.k8s.patroni_info:
    api_url: http://127.0.0.1:8008
  register: patroni

- name: Fail when a member still waits for a restart
  ansible.builtin.assert:
    that: patroni.pending_restart | length == 0
"""

RETURN = r"""
members:
  description: One entry per member.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Member name., type: str}
    role: {description: "Role in /cluster: leader, replica, sync_standby, standby_leader ...", type: str}
    state: {description: "State: running, streaming, stopped, starting ...", type: str}
    lag: {description: Replication lag in bytes (replicas), type: raw}
    timeline: {description: Timeline., type: int}
    host: {description: PostgreSQL host., type: str}
    port: {description: PostgreSQL port., type: int}
    api_url: {description: Base URL of its REST API., type: str}
    reachable: {description: Whether its REST API answered., type: bool}
    pending_restart: {description: Whether it waits for a restart., type: bool}
    pending_restart_reason: {description: "Parameters waiting for a restart (Patroni >= 3.3).", type: dict}
    server_version: {description: PostgreSQL server version number., type: int}
    postmaster_start_time: {description: When PostgreSQL last started., type: str}
    patroni_version: {description: Its Patroni version., type: str}
  sample: [{name: pg1, role: leader, state: running, pending_restart: false}]
leader:
  description: Name of the leader (primary), if any.
  returned: always
  type: str
scope:
  description: Cluster name.
  returned: always
  type: str
paused:
  description: Whether the cluster is in maintenance mode.
  returned: always
  type: bool
pending_restart:
  description: Names of the members waiting for a restart.
  returned: always
  type: list
  elements: str
config:
  description: The dynamic configuration (C(GET /config)).
  returned: always
  type: dict
patroni_version:
  description: Patroni version of the member at O(api_url).
  returned: always
  type: str
primary_role_name:
  description: The primary's role name on this Patroni major (C(master) on 3.x, C(primary) on 4.x).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import (
    CONNECTION_REQUIRED_BY,
    PatroniClient,
    PatroniError,
    cluster_members,
    connection_argument_spec,
    patroni_version,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_logic import restart_role


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(), supports_check_mode=True, required_by=CONNECTION_REQUIRED_BY
    )
    try:
        client = PatroniClient(module.params)
        status = client.call("GET", "/patroni", ok=(200, 503))
        version = patroni_version(status)
        cluster, members = cluster_members(client)
        config = client.call("GET", "/config")
    except PatroniError as exc:
        module.fail_json(msg=str(exc), status=exc.status)
    for m in members:
        if not m["reachable"]:
            module.warn("member %s (%s): REST API unreachable" % (m["name"], m["api_url"]))
    leaders = [m["name"] for m in members if m["role"] in ("leader", "standby_leader")]
    module.exit_json(
        changed=False,
        members=members,
        leader=leaders[0] if leaders else None,
        scope=cluster.get("scope") or (status.get("patroni") or {}).get("scope"),
        paused=bool(cluster.get("pause")),
        pending_restart=[m["name"] for m in members if m["pending_restart"]],
        config=config,
        patroni_version=version,
        primary_role_name=restart_role("leader", version),
    )


if __name__ == "__main__":
    main()
