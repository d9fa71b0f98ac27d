# -*- coding: utf-8 -*-
# Copyright: (c) baremetal.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of patroni_config: Patroni's PATCH merge, minimal patches, diffs, timing and restart order.

Nothing here does I/O, so it is unit-tested without a cluster. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

# Role names, one set for every module. GET /cluster lists a member as leader (primary), standby_leader (leader
# of a standby cluster), replica, sync_standby (synchronous mode) or quorum_standby (4.x, synchronous_mode:
# quorum). GET /patroni and POST /restart name a primary master on Patroni 3.x and primary from 4.0.
LEADER = "leader"
STANDBY_LEADER = "standby_leader"
REPLICA = "replica"
SYNC_STANDBY = "sync_standby"
QUORUM_STANDBY = "quorum_standby"
MASTER = "master"
PRIMARY = "primary"
LEADER_ROLES = (LEADER, STANDBY_LEADER)  # /cluster roles of the member holding the leader key
SYNC_ROLES = (SYNC_STANDBY, QUORUM_STANDBY)
REPLICA_ROLES = (REPLICA, SYNC_STANDBY, QUORUM_STANDBY)  # /cluster roles that replicate from the leader
# Member states that mean PostgreSQL runs ("streaming"/"in archive recovery": a replica's state on 4.x).
RUNNING_STATES = ("running", "streaming", "in archive recovery")
TIMING_KEYS = ("ttl", "loop_wait", "retry_timeout")

# Patroni's defaults for the DCS timing keys (docs: dynamic configuration settings).
TIMING_DEFAULTS = {"ttl": 30, "loop_wait": 10, "retry_timeout": 10}

# The parameters whose value on a hot standby must be >= the primary's (Patroni docs, "restart order").
SHARED_MEMORY_PARAMS = (
    "max_connections",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_wal_senders",
    "max_worker_processes",
)

# pg_settings.context = 'postmaster' on PostgreSQL 15-17: a change sets pending_restart. Used only to predict
# (check mode) and to know which pending flags to wait for; the truth comes from Patroni afterwards.
POSTMASTER_PARAMS = frozenset(
    """
archive_mode autovacuum_freeze_max_age autovacuum_max_workers autovacuum_multixact_freeze_max_age bonjour
bonjour_name cluster_name config_file data_directory data_sync_retry dynamic_shared_memory_type event_source
external_pid_file hba_file hot_standby huge_page_size huge_pages ident_file ignore_invalid_pages io_method
io_max_concurrency io_workers jit_provider listen_addresses logging_collector max_connections
max_files_per_process max_locks_per_transaction max_logical_replication_workers max_notify_queue_pages
max_pred_locks_per_transaction max_prepared_transactions max_replication_slots max_wal_senders
max_worker_processes min_dynamic_shared_memory old_snapshot_threshold port recovery_target
recovery_target_action recovery_target_inclusive recovery_target_lsn recovery_target_name recovery_target_time
recovery_target_timeline recovery_target_xid reserved_connections shared_buffers shared_memory_type
shared_preload_libraries summarize_wal superuser_reserved_connections track_activity_query_size
track_commit_timestamp unix_socket_directories unix_socket_group unix_socket_permissions wal_buffers
wal_decode_buffer_size wal_level wal_log_hints
""".split()
)


def strip_nulls(value):
    """A copy of value without None members of dicts (null only means "delete" inside a PATCH)."""
    if isinstance(value, dict):
        return dict((k, strip_nulls(v)) for k, v in value.items() if v is not None)
    return copy.deepcopy(value)


def _differs(old, new):
    """Patroni's comparison of two leaf values: their str() forms (so 15 == "15" but True != "true")."""
    return str(old) != str(new)


def patroni_merge(config, patch):
    """Return (merged, changed) as Patroni's PATCH /config computes them (patroni.utils.patch_config).

    null deletes a key, dicts merge recursively, everything else replaces when str() differs. One deviation:
    nulls inside a subtree that does not exist yet are dropped instead of being stored.
    """
    merged = copy.deepcopy(config)
    if _merge_into(merged, patch):
        return merged, True
    # Patroni writes nothing then, so a stored null the patch "deleted" stays where it was.
    return copy.deepcopy(config), False


def _merge_into(config, patch):
    changed = False
    for name, value in patch.items():
        if value is None:
            if config.pop(name, None) is not None:
                changed = True
        elif name in config:
            if isinstance(value, dict):
                if isinstance(config[name], dict):
                    changed = _merge_into(config[name], value) or changed
                else:
                    config[name] = strip_nulls(value)
                    changed = True
            elif _differs(config[name], value):
                config[name] = copy.deepcopy(value)
                changed = True
        else:
            config[name] = strip_nulls(value)
            changed = True
    return changed


def minimal_patch(old, new):
    """The smallest PATCH body that turns old into new under Patroni's merge ({} when they are equal)."""
    patch = {}
    for name in old:
        if name not in new:
            patch[name] = None
    for name, value in new.items():
        if name not in old:
            patch[name] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(old[name], dict):
            sub = minimal_patch(old[name], value)
            if sub:
                patch[name] = sub
        elif isinstance(value, dict) != isinstance(old[name], dict) or _differs(old[name], value):
            patch[name] = copy.deepcopy(value)
    return patch


def changed_paths(patch, prefix=()):
    """The dotted key paths a patch touches (leaves and replaced/deleted subtrees), sorted."""
    paths = []
    for name, value in patch.items():
        path = prefix + (name,)
        if isinstance(value, dict) and value:
            paths.extend(changed_paths(value, path))
        else:
            paths.append(path)
    return sorted(paths)


def _lookup(tree, path):
    for name in path:
        if not isinstance(tree, dict) or name not in tree:
            return False, None
        tree = tree[name]
    return True, tree


def _put(tree, path, value):
    for name in path[:-1]:
        tree = tree.setdefault(name, {})
    tree[path[-1]] = copy.deepcopy(value)


def diff_of(old, new, patch):
    """Ansible diff: before/after holding only the keys the patch changes."""
    before, after = {}, {}
    for path in changed_paths(patch):
        found, value = _lookup(old, path)
        if found:
            _put(before, path, value)
        found, value = _lookup(new, path)
        if found:
            _put(after, path, value)
    return {"before": before, "after": after}


def _timing_excess(config):
    try:
        values = dict((k, int(str(config.get(k, d)))) for k, d in TIMING_DEFAULTS.items())
    except ValueError:
        return None
    return values["loop_wait"] + 2 * values["retry_timeout"] - values["ttl"]


def timing_check(current, desired, patch):
    """(None | 'warn' | 'refuse', message) for the timing rule of the config a change produces.

    Refused only when the patch touches ttl, loop_wait or retry_timeout (a state=replaced document that drops
    one counts too) or makes the excess worse; a live config that already breaks the rule only warns, so it
    does not block unrelated changes.
    """
    problem = timing_error(desired)
    if not problem:
        return None, None
    touched = any(path[0] in TIMING_KEYS for path in changed_paths(patch))
    before, after = _timing_excess(current), _timing_excess(desired)
    worse = before is not None and after is not None and after > before
    if touched or worse:
        return "refuse", problem
    return "warn", problem


def timing_error(config):
    """None when loop_wait + 2 * retry_timeout <= ttl holds for config (defaults filled in), else a message."""
    values = {}
    for key, default in TIMING_DEFAULTS.items():
        raw = config.get(key, default)
        try:
            values[key] = int(str(raw))
        except ValueError:
            return "%s must be an integer number of seconds, got %r" % (key, raw)
    if values["loop_wait"] + 2 * values["retry_timeout"] > values["ttl"]:
        return (
            "loop_wait + 2 * retry_timeout <= ttl is violated: %(loop_wait)s + 2 * %(retry_timeout)s > %(ttl)s "
            "(Patroni would lose the leader lock between loops); raise ttl or lower loop_wait/retry_timeout" % values
        )
    return None


def loop_wait_of(*configs):
    """The longest loop_wait among configs: how long a member may take to notice a DCS change."""
    waits = []
    for config in configs:
        try:
            waits.append(int(str(config.get("loop_wait", TIMING_DEFAULTS["loop_wait"]))))
        except ValueError:
            waits.append(TIMING_DEFAULTS["loop_wait"])
    return max(waits)


def parameters_of(config):
    return ((config.get("postgresql") or {}).get("parameters") or {}) if isinstance(config, dict) else {}


def _number(value):
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def restart_order(old, new):
    """('replicas_first' | 'primary_first', reason) for a change of postgresql.parameters from old to new.

    Increases of the shared-memory parameters need replicas first, decreases the primary first
    (a decrease wins when both happen); anything else: replicas first.
    """
    before, after = parameters_of(old), parameters_of(new)
    ups, downs = [], []
    for name in SHARED_MEMORY_PARAMS:
        a, b = _number(before.get(name)), _number(after.get(name))
        if a is None or b is None or a == b:
            continue
        (ups if b > a else downs).append(name)
    if downs:
        return "primary_first", "decrease of %s" % ", ".join(downs)
    if ups:
        return "replicas_first", "increase of %s" % ", ".join(ups)
    return "replicas_first", "default"


def needs_restart(old, new):
    """Sorted names of postmaster-context parameters whose value changes from old to new."""
    before, after = parameters_of(old), parameters_of(new)
    result = []
    for name in sorted(set(before) | set(after)):
        if name not in POSTMASTER_PARAMS:
            continue
        if (name in before) != (name in after) or _differs(before[name], after[name]):
            result.append(name)
    return result


def unknown_context(old, new):
    """Sorted names of changed parameters whose context the module cannot know: extension and custom ones
    (a dot in the name, e.g. pg_stat_statements.max may need a restart)."""
    before, after = parameters_of(old), parameters_of(new)
    return sorted(
        n
        for n in set(before) | set(after)
        if "." in n and ((n in before) != (n in after) or (n in before and _differs(before[n], after[n])))
    )


def order_members(members, order):
    """Members (dicts with name, role) in restart order; the leader goes first or last."""
    leaders = [m for m in members if m.get("role") in LEADER_ROLES]
    others = sorted((m for m in members if m not in leaders), key=lambda m: m["name"])
    return leaders + others if order == "primary_first" else others + leaders


def patroni_major(version):
    try:
        return int(str(version).split(".", maxsplit=1)[0])
    except ValueError:
        return 0


def restart_role(cluster_role, version):
    """The `role` filter for POST /restart: master on Patroni 3.x, primary on 4.x; a standby leader is
    standby_leader on 4.x and has no filter on 3.x (which accepts only master and replica)."""
    if cluster_role == LEADER:
        return PRIMARY if patroni_major(version) >= 4 else MASTER
    if cluster_role == STANDBY_LEADER:
        return STANDBY_LEADER if patroni_major(version) >= 4 else None
    return REPLICA


def synchronous_mode(config):
    """None, 'on' or 'quorum' for the synchronous_mode of a dynamic configuration."""
    value = str((config or {}).get("synchronous_mode", "")).strip().lower()
    if value == "quorum":
        return "quorum"
    return "on" if value in ("true", "on", "yes", "1") else None


def pick_candidate(members, primary_name, sync_mode=None):
    """Switchover candidate: a running, non-pending replica with the smallest lag (name breaks ties).

    With synchronous standbys (sync_standby on 3.x/4.x, quorum_standby with synchronous_mode: quorum) only
    they qualify, as Patroni requires of a switchover candidate (a non-synchronous one gets HTTP 412); in
    synchronous_mode 'on' without any synchronous standby there is no candidate at all.
    """
    ok = [
        m
        for m in members
        if m["name"] != primary_name
        and m.get("role") in REPLICA_ROLES
        and m.get("reachable", True)
        and m.get("state") in RUNNING_STATES
        and not m.get("pending_restart")
        and not (m.get("tags") or {}).get("nofailover")
    ]
    synchronous = [m for m in ok if m.get("role") in SYNC_ROLES]
    if synchronous or sync_mode == "on" or any(m.get("role") in SYNC_ROLES for m in members):
        ok = synchronous
    ok.sort(key=lambda m: (m.get("lag") if isinstance(m.get("lag"), int) else 1 << 62, m["name"]))
    return ok[0]["name"] if ok else None


def restart_plan(members, mode, order, primary_method, expect_pending=False):
    """The ordered steps of a rolling restart, for check mode and the real run alike.

    members: dicts with name, role, pending_restart; mode: never | pending | always; expect_pending: whether
    every member will report pending_restart once the change is picked up (a restart-only parameter
    changed). Each step is dict(name, role, action) with action 'restart', or 'switchover' for a primary
    that moves to a restarted replica before it restarts (only when replicas go first).
    """
    if mode == "never":
        return []
    targets = [m for m in members if mode == "always" or m.get("pending_restart") or expect_pending]
    steps = []
    for m in order_members(targets, order):
        switch = m.get("role") == LEADER and primary_method == "switchover" and order == "replicas_first"
        steps.append(dict(name=m["name"], role=m.get("role"), action="switchover" if switch else "restart"))
    return steps
