#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) baremetal.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: patroni_config
short_description: Change Patroni's dynamic configuration and restart only the members that need it
version_added: "0.1.0"
description:
  - Reads the dynamic configuration with C(GET /config), merges O(config) into it with Patroni's own PATCH
    semantics (nested dicts merge, V(null) deletes a key, other values replace) and compares values the way
    Patroni does (their string forms, so V(15) equals V("15") but V(true) differs from V("true")).
  - Sends a C(PATCH /config) holding only the changed keys, and nothing at all when nothing changes, so
    RV(ignore:changed) is exact. A lost compare-and-set race (HTTP 409) is retried.
  - Refuses, before sending anything, a change of C(ttl), C(loop_wait) or C(retry_timeout) whose result breaks
    Patroni's timing rule C(loop_wait + 2 * retry_timeout <= ttl). When the live configuration already breaks
    it, other changes go through with a warning.
  - Then restarts, one at a time, the members reporting C(pending_restart) once the change has been picked
    up, in a safe order, waiting for each to run again. Replicas go first, except when one of
    C(max_connections), C(max_prepared_transactions), C(max_locks_per_transaction), C(max_wal_senders),
    C(max_worker_processes) decreases, where the primary must go first.
  - Before each restart every member must be reachable and running (a member missing a poll is waited for),
    so at most the member being restarted is down; otherwise the task fails naming the member.
  - Needs only Python and the module utilities Ansible ships with it, so it runs on the controller against
    O(api_url) or inside a Patroni pod (for example through the C(kubernetes.core.kubectl) connection).
extends_documentation_fragment:
  - baremetal.k8s.patroni
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Sends GET requests and, when O(username) is set, the empty C(PATCH /config) that checks the credentials.
  diff_mode:
    support: full
    details: Only the changed keys, before and after.
  platform:
    platforms: posix
  action_group:
    description: Use C(group/baremetal.k8s.patroni) in C(module_defaults) to set the connection options.
    support: full
    membership:
      - baremetal.k8s.patroni
author:
  - baremetal.k8s contributors (!UNKNOWN)
options:
  config:
    description:
      - The wanted dynamic configuration (same shape as C(patronictl show-config)).
      - With O(state=present) it is merged into the current one; V(null) deletes a key.
      - With O(state=replaced) it becomes the whole document.
      - Quote PostgreSQL switches such as V('on'), because YAML turns a bare V(on) into a boolean, which
        Patroni would store as V(True).
    type: dict
    default: {}
  state:
    description:
      - V(present) merges O(config) into the current configuration (PATCH).
      - V(replaced) replaces the whole document with O(config) (PUT); keys not in O(config) are dropped.
    type: str
    choices: [present, replaced]
    default: present
  restart:
    description:
      - V(pending) restarts the members reporting C(pending_restart) after the change (and any left pending
        before), V(never) restarts nothing, V(always) restarts every member.
    type: str
    choices: [never, pending, always]
    default: pending
  primary_restart_method:
    description:
      - V(restart) restarts the primary in place (a short write outage).
      - V(switchover) first switches over to an already restarted replica; the old primary restarts as a
        replica while it is demoted. When the primary must go first (a decrease of a shared-memory parameter)
        it is restarted in place, with a warning.
    type: str
    choices: [restart, switchover]
    default: restart
  restart_timeout:
    description: Seconds to wait for one member's restart (or the switchover) and for it to run again.
    type: int
    default: 300
  pending_timeout:
    description:
      - Seconds to wait, after a change of a restart-only parameter, for every member to report
        C(pending_restart) (polled, in every O(restart) mode), and after a member's restart for its
        C(pending_restart) to clear.
      - Also how long the cluster may be degraded (a member unreachable or not running) before the first
        restart; between restarts that bound is O(restart_timeout).
    type: int
    default: 60
notes:
  - Check mode changes nothing; it reports the changes, the members that would restart (those pending now
    plus, when a restart-only parameter changes, all of them), in the order the real run would use (both
    come from the same plan), and the switchover it would do.
  - When O(username) is set and nothing is to be changed (or in check mode), the credentials are checked
    with an empty C(PATCH /config), which Patroni refuses with HTTP 400 after checking them and which changes
    nothing; RV(credentials_checked) says whether they were checked.
  - With synchronous replication on, only a synchronous standby (C(sync_standby), or C(quorum_standby) with
    C(synchronous_mode=quorum)) is a switchover candidate, as Patroni requires.
  - The leader of a standby cluster (C(standby_leader)) is restarted in place, never switched over.
  - Roles in restart requests follow the server's Patroni major version (C(master) on 3.x, C(primary) on 4.x).
  - HTTP errors fail the task with the member, the request and the status; a degraded cluster (a member
    unreachable or not running) makes it refuse to restart anything.
seealso:
  - module: baremetal.k8s.patroni_info
  - name: Patroni dynamic configuration
    description: Patroni's documentation of the dynamic configuration settings.
    link: https://patroni.readthedocs.io/en/latest/dynamic_configuration.html
"""

EXAMPLES = r"""
- name: Tune PostgreSQL and restart only what needs it (from the controller)
  baremetal.k8s.patroni_config:
    api_url: http://10.0.0.11:8008
    username: patroni
    password: "{{ vault_patroni_rest_password }}"
    config:
      loop_wait: 10
      postgresql:
        parameters:
          max_connections: 200
          shared_buffers: 1280MB
          wal_keep_segments: null      # delete the key
        use_pg_rewind: true

- name: Same change inside a Patroni pod (credentials from the pod's PATRONI_RESTAPI_* variables)
  baremetal.k8s.patroni_config:
    api_url: http://localhost:8008
    config:
      postgresql:
        parameters:
          work_mem: 256MB
  vars:
    ansible_connection: kubernetes.core.kubectl
    ansible_kubectl_namespace: devstats-prod
    ansible_kubectl_pod: devstats-postgres-0
    ansible_python_interpreter: /usr/bin/python3

- name: Change the configuration now, restart later
  baremetal.k8s.patroni_config:
    config: {postgresql: {parameters: {shared_buffers: 2GB}}}
    restart: never

- name: Switch the primary over instead of restarting it in place
  baremetal.k8s.patroni_config:
    config: {postgresql: {parameters: {max_wal_senders: 20}}}
    primary_restart_method: switchover
"""

RETURN = r"""
changes:
  description:
    - The PATCH body sent (or, in check mode, that would be sent).
    - With O(state=replaced), the keys that differ.
  returned: always
  type: dict
  sample: {postgresql: {parameters: {shared_buffers: 64MB}}}
config:
  description: The dynamic configuration after the change (the expected one in check mode).
  returned: success
  type: dict
  sample: {ttl: 30, loop_wait: 10, retry_timeout: 10, postgresql: {parameters: {shared_buffers: 64MB}}}
restarted:
  description: Members restarted, in order (in check mode, the members that would be restarted).
  returned: always
  type: list
  elements: str
  sample: [pg2, pg3, pg1]
restart_order:
  description: V(replicas_first) or V(primary_first), with the reason.
  returned: success
  type: dict
  sample: {order: replicas_first, reason: increase of max_connections}
switchover:
  description: The switchover done (in check mode, planned) before restarting the old primary.
  returned: when O(primary_restart_method=switchover) switched over
  type: dict
  sample: {from: pg1, to: pg2}
pending_restart:
  description:
    - Whether each member reports C(pending_restart) at the end, once the change has been picked up (also
      with O(restart=never)). In check mode, what the run would leave.
  returned: always
  type: dict
  sample: {pg1: false, pg2: false, pg3: false}
members:
  description: Name, role and state of each member at the end.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Member name., type: str, sample: pg1}
    role:
      description: Role in C(GET /cluster)
      type: str
      choices: [leader, standby_leader, replica, sync_standby, quorum_standby]
      sample: leader
    state: {description: "Its state: running, streaming, stopped, starting ...", type: str, sample: running}
    lag: {description: Replication lag in bytes (replicas; V(unknown) or none otherwise)., type: raw, sample: 0}
    reachable: {description: Whether its REST API answered., type: bool, sample: true}
  sample: [{name: pg1, role: leader, state: running, lag: null, reachable: true}]
credentials_checked:
  description:
    - Whether O(username)/O(password) were proven by an authenticated request (the change itself, or an empty
      C(PATCH /config) when there was nothing to change). V(false) when no O(username) was given.
  returned: always
  type: bool
  sample: true
patroni_version:
  description: Patroni version of the member at O(api_url).
  returned: success
  type: str
  sample: 3.0.2
status:
  description: HTTP status of the failed request.
  returned: failure, when a request got an HTTP answer
  type: int
  sample: 401
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import (
    CONNECTION_REQUIRED_BY,
    PatroniClient,
    PatroniError,
    check_credentials,
    cluster_members,
    connection_argument_spec,
    http_error,
    patroni_version,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_logic import (
    LEADER,
    diff_of,
    loop_wait_of,
    minimal_patch,
    needs_restart,
    patroni_merge,
    pick_candidate,
    restart_order,
    restart_plan,
    strip_nulls,
    synchronous_mode,
    timing_check,
    unknown_context,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_restart import RollingRestart

CONFLICT_RETRIES = 5


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        config=dict(type="dict", default={}),
        state=dict(type="str", default="present", choices=["present", "replaced"]),
        restart=dict(type="str", default="pending", choices=["never", "pending", "always"]),
        primary_restart_method=dict(type="str", default="restart", choices=["restart", "switchover"]),
        restart_timeout=dict(type="int", default=300),
        pending_timeout=dict(type="int", default=60),
    )
    return spec


def plan(current, params):
    """(desired, patch) for the current config and the module's options."""
    if params["state"] == "replaced":
        desired = strip_nulls(params["config"])
    else:
        desired = patroni_merge(current, params["config"])[0]
    return desired, minimal_patch(current, desired)


def apply_config(module, client, result):
    """GET, compute, validate, PATCH/PUT (retrying 409). Returns (before, after, patch, changed_at)."""
    for _attempt in range(CONFLICT_RETRIES):
        current = client.call("GET", "/config", who=client.api_url)
        desired, patch = plan(current, module.params)
        verdict, problem = timing_check(current, desired, patch)
        if verdict == "refuse":
            module.fail_json(msg="refusing the change: " + problem, **dict(result, changes=patch))
        elif verdict == "warn":
            module.warn("the dynamic configuration breaks the timing rule (this change does not touch it): " + problem)
        if not patch or module.check_mode:
            return current, desired, patch, None
        if module.params["state"] == "replaced":
            status, answer = client.request("PUT", "/config", desired)
        else:
            status, answer = client.request("PATCH", "/config", patch)
        if status == 409:
            time.sleep(0.5)
            continue
        if status != 200:
            method = "PUT" if module.params["state"] == "replaced" else "PATCH"
            raise http_error(method, "/config", client.api_url, status, answer)
        return current, answer if isinstance(answer, dict) else desired, patch, time.time()
    raise PatroniError("PATCH /config on %s: still conflicting after %d attempts" % (client.api_url, CONFLICT_RETRIES))


def predicted_switchover(members, steps, sync_mode):
    """Check mode: the switchover the plan would do, on the members as they will be once restarted."""
    step = next((s for s in steps if s["action"] == "switchover"), None)
    if not step:
        return None
    restarted = set(s["name"] for s in steps)
    after = [dict(m, pending_restart=False) if m["name"] in restarted else m for m in members]
    candidate = pick_candidate(after, step["name"], sync_mode)
    return dict(step=step, to=candidate)


def run(module, client):
    """The whole task; returns the result (fails through module.fail_json)."""
    params = module.params
    result = dict(changed=False, changes={}, restarted=[], pending_restart={}, members=[], credentials_checked=False)
    try:
        version = patroni_version(client.call("GET", "/patroni", ok=(200, 503)))
        result["patroni_version"] = version
        members_before = cluster_members(client)[1]
        before, after, patch, changed_at = apply_config(module, client, result)
        result.update(changes=patch, config=after, changed=bool(patch))
        if params.get("username") is not None:
            if not patch or module.check_mode:
                check_credentials(client)
            result["credentials_checked"] = True  # by the empty PATCH, or by the PATCH/PUT that was accepted
        if patch and module._diff:
            result["diff"] = diff_of(before, after, patch)
        order, reason = restart_order(before, after)
        result["restart_order"] = dict(order=order, reason=reason)
        sync_mode = synchronous_mode(after)
        restarter = RollingRestart(
            client, version, params["restart_timeout"], module.warn, params["pending_timeout"], sync_mode=sync_mode
        )
        restart_params = needs_restart(before, after) if patch and "postgresql" in patch else []
        unknown = unknown_context(before, after) if patch and "postgresql" in patch else []
        if module.check_mode:
            members = members_before
        elif changed_at is not None:
            pending_before = set(m["name"] for m in members_before if m["pending_restart"])
            members = restarter.wait_picked_up(
                restart_params, unknown, pending_before, loop_wait_of(before, after), changed_at
            )
        else:
            members = restarter.members()
        expect = bool(module.check_mode and restart_params)
        steps = restart_plan(members, params["restart"], order, params["primary_restart_method"], expect)
        if params["primary_restart_method"] == "switchover" and order == "primary_first":
            if any(s["role"] == LEADER for s in steps):
                module.warn(
                    "a decrease of a shared-memory parameter needs the primary restarted first: "
                    "restarting it in place instead of switching over"
                )
        if module.check_mode:
            result["restarted"] = [s["name"] for s in steps]
            result["changed"] = result["changed"] or bool(steps)
            planned = predicted_switchover(members, steps, sync_mode)
            if planned and planned["to"]:
                result["switchover"] = {"from": planned["step"]["name"], "to": planned["to"]}
            restarted = set(result["restarted"])
            members = [
                dict(m, pending_restart=(m["pending_restart"] or expect) and m["name"] not in restarted)
                for m in members
            ]
        elif steps:
            try:
                restarter.execute(members, steps, params["restart"])
            finally:
                result["restarted"] = list(restarter.restarted)
                if restarter.switchover:
                    result["switchover"] = restarter.switchover
                result["changed"] = result["changed"] or bool(restarter.restarted)
            members = restarter.members()
        result["pending_restart"] = dict((m["name"], m["pending_restart"]) for m in members)
        result["members"] = [
            dict((k, m.get(k)) for k in ("name", "role", "state", "lag", "reachable")) for m in members
        ]
    except PatroniError as exc:
        module.fail_json(msg=str(exc), status=exc.status, **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_by=CONNECTION_REQUIRED_BY,
        required_if=[("state", "replaced", ["config"])],
    )
    if module.params["state"] == "replaced" and not module.params["config"]:
        module.fail_json(msg="state=replaced needs a non-empty config")
    try:
        client = PatroniClient(module.params)
    except PatroniError as exc:
        module.fail_json(msg=str(exc), status=exc.status)
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
