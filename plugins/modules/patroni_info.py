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
  - Sends only GET requests and never changes anything, so O(username)/O(password) are not checked.
  - Needs only Python and the module utilities Ansible ships with it, so it also runs inside a Patroni pod.
extends_documentation_fragment:
  - baremetal.k8s.patroni
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
  platform:
    platforms: posix
  action_group:
    description: Use C(group/baremetal.k8s.patroni) in C(module_defaults) to set the connection options.
    support: full
    membership:
      - baremetal.k8s.patroni
author:
  - baremetal.k8s contributors (!UNKNOWN)
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
  description: One entry per member, every key always present (V(null) when the member did not answer).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Member name., type: str, sample: pg1}
    role:
      description: Role in C(GET /cluster).
      type: str
      choices: [leader, standby_leader, replica, sync_standby, quorum_standby]
      sample: leader
    state:
      description: "State in C(GET /cluster): running, streaming, stopped, starting ..."
      type: str
      sample: running
    patroni_state: {description: State in its own C(GET /patroni)., type: str, sample: running}
    lag:
      description: Replication lag in bytes (replicas; V(unknown) when not known, none for a leader).
      type: raw
      sample: 0
    timeline: {description: Timeline., type: int, sample: 1}
    host: {description: PostgreSQL host., type: str, sample: 10.0.0.11}
    port: {description: PostgreSQL port., type: int, sample: 5432}
    tags: {description: Its Patroni tags., type: dict, sample: {nofailover: true}}
    api_url: {description: Base URL of its REST API., type: str, sample: "http://10.0.0.11:8008"}
    reachable: {description: Whether its REST API answered., type: bool, sample: true}
    pending_restart: {description: Whether it waits for a restart., type: bool, sample: false}
    pending_restart_reason:
      description: Parameters waiting for a restart (Patroni >= 3.3).
      type: dict
      sample: {max_connections: {old_value: "100", new_value: "110"}}
    server_version: {description: PostgreSQL server version number., type: int, sample: 150020}
    postmaster_start_time:
      description: When PostgreSQL last started.
      type: str
      sample: "2026-01-01 10:00:00.000000+00:00"
    patroni_version: {description: Its Patroni version., type: str, sample: 4.1.5}
    xlog:
      description:
        - WAL positions from C(GET /patroni) (C(location) on a primary, C(received_location) and
          C(replayed_location) on a replica).
      type: dict
      sample: {location: 67108960}
  sample: [{name: pg1, role: leader, state: running, pending_restart: false, reachable: true}]
leader:
  description: Name of the leader (primary, or standby leader of a standby cluster), if any.
  returned: always
  type: str
  sample: pg1
scope:
  description: Cluster name.
  returned: always
  type: str
  sample: devstats-postgres
paused:
  description: Whether the cluster is in maintenance mode.
  returned: always
  type: bool
  sample: false
pending_restart:
  description: Names of the members waiting for a restart.
  returned: always
  type: list
  elements: str
  sample: [pg2]
config:
  description: The dynamic configuration (C(GET /config)).
  returned: always
  type: dict
  sample: {ttl: 30, loop_wait: 10, retry_timeout: 10, postgresql: {parameters: {max_connections: 100}}}
patroni_version:
  description: Patroni version of the member at O(api_url).
  returned: always
  type: str
  sample: 3.0.2
primary_role_name:
  description: The primary's role name on this Patroni major (C(master) on 3.x, C(primary) on 4.x).
  returned: always
  type: str
  sample: master
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
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_logic import LEADER, LEADER_ROLES, restart_role


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
    leaders = [m["name"] for m in members if m["role"] in LEADER_ROLES]
    module.exit_json(
        changed=False,
        members=members,
        leader=leaders[0] if leaders else None,
        scope=cluster.get("scope") or (status.get("patroni") or {}).get("scope"),
        paused=bool(cluster.get("pause")),
        pending_restart=[m["name"] for m in members if m["pending_restart"]],
        config=config,
        patroni_version=version,
        primary_role_name=restart_role(LEADER, version),
    )


if __name__ == "__main__":
    main()
