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
    LEADER,
    LEADER_ROLES,
    REPLICA,
    REPLICA_ROLES,
    pick_candidate,
    restart_plan,
    restart_role,
)


def _who(m):
    return "member %s (%s)" % (m["name"], m["api_url"])


def _is_leader(role):
    return role in LEADER_ROLES


class RollingRestart:
    """Restarts members through POST /restart (or switches the primary over first) and waits for each.

    Before every step the whole cluster must be up: each member seen when the plan was made reachable and
    running (a member that misses a poll is waited for), so at most the member being restarted is ever down.
    """

    def __init__(self, client, version, restart_timeout, warn, pending_timeout=60, *, sync_mode=None):
        self.client = client
        self.version = version
        self.restart_timeout = restart_timeout
        self.pending_timeout = pending_timeout
        self.warn = warn
        self.sync_mode = sync_mode
        self.restarted = []
        self.switchover = None
        self._planned = []

    def members(self):
        return cluster_members(self.client)[1]

    def wait_picked_up(self, restart_params, unknown_params, pending_before, loop_wait, changed_at):
        """The members once a config change is picked up, polled with a bound instead of a fixed pause.

        A restart-only parameter changed: until every reachable member reports pending_restart (a member that
        was pending before the change is believed only one HA loop, loop_wait + 2 s, after it). Only
        parameters of unknown context changed (extensions): one HA loop. Otherwise the flags cannot change.
        """
        settled_at = changed_at + loop_wait + 2
        if not restart_params:
            if unknown_params:
                time.sleep(max(settled_at - time.time(), 0))
            return self.members()

        def all_pending():
            members = self.members()
            late = time.time() < settled_at
            waiting = [
                m
                for m in members
                if m["reachable"] and (not m["pending_restart"] or (late and m["name"] in pending_before))
            ]
            return None if waiting else members

        members = wait_for(all_pending, self.pending_timeout)
        if members is None:
            members = self.members()
            self.warn(
                "not every member reported pending_restart within %ss of the change (%s changed): %s"
                % (
                    self.pending_timeout,
                    ", ".join(restart_params),
                    ", ".join(m["name"] for m in members if not m["pending_restart"]) or "none",
                )
            )
        return members

    def run(self, members, mode, order, primary_method):
        """Restart members (mode 'pending': the pending ones; 'always': all) in order; returns names restarted."""
        steps = restart_plan(members, mode, order, primary_method)
        if primary_method == "switchover" and order == "primary_first" and any(_is_leader(s["role"]) for s in steps):
            self.warn(
                "a decrease of a shared-memory parameter needs the primary restarted first: "
                "restarting it in place instead of switching over"
            )
        return self.execute(members, steps, mode)

    def execute(self, members, steps, mode):
        """Carry out the steps of patroni_logic.restart_plan() for these members."""
        if not steps:
            return []
        self._planned = [dict(name=m["name"], api_url=m["api_url"]) for m in members]
        leader_lsn = None
        for index, step in enumerate(steps):
            now = self._gate(step, self.pending_timeout if index == 0 else self.restart_timeout)
            member = now[step["name"]]
            if _is_leader(member["role"]) != _is_leader(step["role"]):
                raise PatroniError(
                    "%s is %s now, not %s as when the restart was planned (failover?): stopping"
                    % (_who(member), member["role"], step["role"])
                )
            if mode == "pending" and not member["pending_restart"]:
                continue  # cleared meanwhile (e.g. the demotion of a switchover restarted it)
            if step["action"] == "switchover":
                self._switch_over_then_restart(member, mode)
                continue
            if leader_lsn is not None and member["role"] in REPLICA_ROLES:
                # A replica reads the primary's new limits from its control file: let it replay them first.
                self._wait_replayed(member, leader_lsn)
            self._restart(member, mode, member["role"])
            if member["role"] == LEADER:
                leader_lsn = self._leader_lsn(member)
        return self.restarted

    def _gate(self, step, grace):
        """Members by name once every member of the plan is reachable and running; fails naming the others."""
        state = {}

        def healthy():
            members = self.members()
            by_name = dict((m["name"], m) for m in members)
            problems = unhealthy(members)
            problems += [
                "%s: no longer in the cluster (its member key expired)" % _who(m)
                for m in self._planned
                if m["name"] not in by_name
            ]
            state["problems"] = problems
            return None if problems else by_name

        by_name = wait_for(healthy, grace)
        if not by_name:
            raise PatroniError(
                "refusing to restart member %s while the cluster is degraded (waited %ss): %s"
                % (step["name"], grace, "; ".join(state["problems"]))
            )
        return by_name

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

    def _leader_lsn(self, member):
        """The restarted primary's WAL position (waits while its REST API misses polls)."""

        def lsn():
            m = self._current(member["name"])
            location = (m or {}).get("xlog", {}).get("location") if m and m["reachable"] else None
            return location if isinstance(location, int) else None

        location = wait_for(lsn, self.restart_timeout, 0.5)
        if location is None:
            raise PatroniError("%s did not report its WAL position within %ss" % (_who(member), self.restart_timeout))
        return location

    def _wait_replayed(self, member, lsn):
        def caught_up():
            m = self._current(member["name"])
            replayed = m["xlog"].get("replayed_location") if m and m["reachable"] else None
            return isinstance(replayed, int) and replayed >= lsn

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
            if _is_leader(m["role"]) != _is_leader(cluster_role):
                raise PatroniError(
                    "%s came back as %s instead of %s (failover?)" % (_who(member), m["role"], cluster_role)
                )
            if m["role"] in REPLICA_ROLES and not isinstance(m.get("lag"), int):
                return None  # a replica replicates again; a (standby) leader has no lag
            return m

        if not wait_for(ready, self.restart_timeout):
            m = self._current(member["name"]) or {}
            raise PatroniError(
                "%s not running again within %ss after its restart (state %s%s)"
                % (
                    _who(member),
                    self.restart_timeout,
                    m.get("state"),
                    "" if m.get("reachable") else ", REST API unreachable",
                )
            )

        def settled():
            m = self._current(member["name"])
            return m if m and m["reachable"] and not m["pending_restart"] else None

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
        # Right after the replicas' restarts Patroni may not have named a synchronous standby again yet (it drops
        # one that disconnects): wait for a candidate, up to pending_timeout, before restarting in place.
        candidate = wait_for(
            lambda: pick_candidate(self.members(), primary["name"], self.sync_mode),
            self.pending_timeout if len(self._planned) > 1 else 0,
        )
        if not candidate:
            self.warn(
                "no healthy replica%s to switch over to: restarting primary %s in place"
                % (" among the synchronous standbys" if self.sync_mode else "", primary["name"])
            )
            return self._restart(primary, mode, primary["role"])
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
            lead = [m for m in ms if _is_leader(m["role"]) and m["reachable"] and m["state"] in RUNNING_STATES]
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
        self._wait_running(primary, now["role"] if now else REPLICA)
