# -*- coding: utf-8 -*-
# Copyright: (c) baremetal.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling restart of Patroni members: only the ones that need it, in a safe order, one at a time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import (
    RUNNING_STATES,
    PatroniError,
    cluster_members,
    unhealthy,
    wait_for,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_logic import (
    order_members,
    pick_candidate,
    restart_role,
)


def _who(m):
    return "member %s (%s)" % (m["name"], m["api_url"])


class RollingRestart:
    """Restarts members through POST /restart (or switches the primary over first) and waits for each."""

    def __init__(self, client, version, restart_timeout, warn, pending_timeout=60):
        self.client = client
        self.version = version
        self.restart_timeout = restart_timeout
        self.pending_timeout = pending_timeout
        self.warn = warn
        self.restarted = []
        self.switchover = None

    def members(self):
        return cluster_members(self.client)[1]

    def wait_picked_up(self, expect_all, settle, timeout):
        """After a config change: wait settle seconds (one HA loop), then, when a restart-only parameter
        changed, until every reachable member reports pending_restart (or timeout). Returns the members."""
        time.sleep(settle)
        if not expect_all:
            return self.members()

        def all_pending():
            members = self.members()
            return members if all(m["pending_restart"] for m in members if m["reachable"]) else None

        members = wait_for(all_pending, timeout)
        if members is None:
            members = self.members()
            self.warn(
                "not every member reported pending_restart within %ss: %s"
                % (timeout, ", ".join(m["name"] for m in members if not m["pending_restart"]))
            )
        return members

    def run(self, members, mode, order, primary_method):
        """Restart members (mode 'pending': the pending ones; 'always': all) in order; returns names restarted."""
        targets = [m for m in members if m["pending_restart"]] if mode == "pending" else list(members)
        if not targets:
            return []
        problems = unhealthy(members)
        if problems:
            raise PatroniError("refusing to restart while the cluster is degraded: %s" % "; ".join(problems))
        if primary_method == "switchover" and order == "primary_first":
            self.warn(
                "a decrease of a shared-memory parameter needs the primary restarted first: "
                "restarting it in place instead of switching over"
            )
        leader_lsn = None
        for member in order_members(targets, order):
            if member["role"] == "leader" and primary_method == "switchover" and order == "replicas_first":
                self._switch_over_then_restart(member, mode)
                continue
            if leader_lsn is not None:
                # A replica reads the primary's new limits from its control file: let it replay them first.
                self._wait_replayed(member, leader_lsn)
            self._restart(member, mode, member["role"])
            if member["role"] == "leader":
                leader_lsn = self._leader_lsn()
        return self.restarted

    def _restart(self, member, mode, cluster_role):
        # Each member gets its own major's role name (master on 3.x, primary on 4.x), also mid-upgrade.
        body = {"role": restart_role(cluster_role, member.get("patroni_version") or self.version)}
        if body["role"] is None:
            body = {}
        if mode == "pending":
            body["restart_pending"] = True
        self.client.call(
            "POST", "/restart", body, base=member["api_url"], who=_who(member), timeout=self.restart_timeout
        )
        self.restarted.append(member["name"])
        self._wait_running(member, cluster_role)

    def _leader_lsn(self):
        for m in self.members():
            if m["role"] == "leader":
                return m["xlog"].get("location")
        return None

    def _wait_replayed(self, member, lsn):
        def caught_up():
            m = self._current(member["name"]) or {"xlog": {}}
            replayed = m["xlog"].get("replayed_location")
            return isinstance(replayed, int) and isinstance(lsn, int) and replayed >= lsn

        if not wait_for(caught_up, self.restart_timeout, 0.5):
            raise PatroniError(
                "%s did not replay the restarted primary's WAL (up to %s) within %ss"
                % (_who(member), lsn, self.restart_timeout)
            )

    def _current(self, name):
        for m in self.members():
            if m["name"] == name:
                return m
        return None

    def _wait_running(self, member, cluster_role):
        """Until the member runs again in the same role (a replica: also replicating), then has nothing pending."""

        def ready():
            m = self._current(member["name"])
            if not m or not m["reachable"] or m["state"] not in RUNNING_STATES:
                return None
            if (m["role"] == "leader") != (cluster_role == "leader"):
                raise PatroniError(
                    "%s came back as %s instead of %s (failover?)" % (_who(member), m["role"], cluster_role)
                )
            if cluster_role != "leader" and not isinstance(m.get("lag"), int):
                return None
            return m

        if not wait_for(ready, self.restart_timeout):
            m = self._current(member["name"]) or {}
            raise PatroniError(
                "%s not running again within %ss after its restart (state %s)"
                % (_who(member), self.restart_timeout, m.get("state"))
            )

        def settled():
            m = self._current(member["name"])
            return m if m and not m["pending_restart"] else None

        if not wait_for(settled, self.pending_timeout):
            m = self._current(member["name"]) or {}
            raise PatroniError(
                "%s still reports pending_restart %ss after its restart%s"
                % (
                    _who(member),
                    self.pending_timeout,
                    " (%s)" % m["pending_restart_reason"] if m.get("pending_restart_reason") else "",
                )
            )

    def _switch_over_then_restart(self, primary, mode):
        members = self.members()
        candidate = pick_candidate(members, primary["name"])
        if not candidate:
            self.warn("no healthy replica to switch over to: restarting primary %s in place" % primary["name"])
            return self._restart(primary, mode, "leader")
        self.client.call(
            "POST",
            "/switchover",
            {"leader": primary["name"], "candidate": candidate},
            base=primary["api_url"],
            who=_who(primary),
            timeout=self.restart_timeout,
        )
        self.switchover = {"from": primary["name"], "to": candidate}

        def switched():
            ms = self.members()
            lead = [m for m in ms if m["role"] == "leader" and m["state"] in RUNNING_STATES]
            old = [m for m in ms if m["name"] == primary["name"] and m["reachable"] and m["state"] in RUNNING_STATES]
            return ms if lead and lead[0]["name"] == candidate and old else None

        if not wait_for(switched, self.restart_timeout):
            raise PatroniError(
                "switchover from %s to %s did not complete within %ss"
                % (primary["name"], candidate, self.restart_timeout)
            )
        # The demoted primary restarts as a replica during the switchover, which usually clears its pending flag.
        now = self._current(primary["name"])
        if now and (now["pending_restart"] or mode == "always"):
            return self._restart(now, mode, now["role"])
        self.restarted.append(primary["name"])
        self._wait_running(primary, now["role"] if now else "replica")
