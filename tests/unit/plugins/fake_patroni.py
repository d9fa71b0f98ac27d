"""A small simulated Patroni cluster behind the PatroniClient interface (call/request), on a fake clock.

Not Patroni's code: a model of the REST behaviour the modules rely on (see docs/patroni.md and Patroni's
REST API documentation, https://patroni.readthedocs.io/en/latest/rest_api.html):
- PATCH/PUT /config change the DCS document; each member applies it `pickup[name]` fake seconds later (its
  HA loop) and then reports pending_restart when a restart-only parameter differs from what it runs.
- POST /restart honours the role and restart_pending filters (503 otherwise), POST /switchover refuses a
  candidate outside the synchronous standbys in synchronous mode (412) as Patroni 3.x/4.x do.
- Faults: `lose(name, after, polls)` makes that member's GET /patroni fail (unreachable) `polls` times
  after `after` more successful ones, `down` keeps a member unreachable, `hooks[(method, path, name)]`
  run after a request (e.g. lose a member mid-run).
- `standby=True` makes it a standby cluster (standby_leader, no lag for it); `synchronous_mode` in the
  config turns on sync_standby (3.x, 4.x) or quorum_standby (4.x, synchronous_mode: quorum) roles.
"""

import copy

from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import PatroniError, http_error

# The fake's own idea of restart-only parameters (deliberately not the module's list).
RESTART_ONLY = {"max_connections", "shared_buffers", "max_wal_senders", "pg_stat_statements.max"}


def merge(config, patch):
    """PATCH semantics: None deletes, dicts merge, other values replace when their str() differs."""
    changed = False
    for key, value in patch.items():
        if value is None:
            changed = config.pop(key, None) is not None or changed
        elif isinstance(value, dict) and isinstance(config.get(key), dict):
            changed = merge(config[key], value) or changed
        elif key not in config or str(config[key]) != str(value):
            config[key] = copy.deepcopy(value)
            changed = True
    return changed


class FakeCluster:
    def __init__(self, version="3.0.2", names=("pg1", "pg2", "pg3"), leader="pg1", config=None, standby=False):
        self.version = version
        self.api_url = "http://m/%s" % leader
        self.now = 1000.0
        self.standby = standby
        self.config = config or {
            "ttl": 30,
            "loop_wait": 10,
            "retry_timeout": 10,
            "postgresql": {"parameters": {"max_connections": 100, "work_mem": "4MB"}},
        }
        self.leader = leader
        self.names = list(names)
        self.sync = set()  # synchronous standbys (set by tests or by sync_to())
        self.applied = {n: copy.deepcopy(self.config) for n in names}  # DCS config each member applied
        self.running = {n: self._restart_only(self.config) for n in names}  # restart-only values it runs with
        self.pickup = {n: 1.0 + i for i, n in enumerate(names)}  # seconds after a change until applied
        self.due = {}  # name -> (time, config) to apply
        self.lsn = 100
        self.miss = {}
        self.down = set()
        self.hooks = {}
        self.requests = []  # (method, path, name, body) of every request
        self.auth_ok = True
        self.sleeps = []

    # fake clock ----------------------------------------------------------------------------------------------
    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.01)
        self._tick()

    def _tick(self):
        for name, (when, config) in list(self.due.items()):
            if self.now >= when:
                self.applied[name] = config
                del self.due[name]

    # model ------------------------------------------------------------------------------------------------------
    @staticmethod
    def _restart_only(config):
        params = (config.get("postgresql") or {}).get("parameters") or {}
        return {k: str(v) for k, v in params.items() if k in RESTART_ONLY}

    def pending(self, name):
        return self._restart_only(self.applied[name]) != self.running[name]

    def sync_mode(self):
        value = self.config.get("synchronous_mode")
        if str(value).lower() == "quorum" and self.version >= "4":
            return "quorum"
        return "sync" if str(value).lower() in ("true", "on") else None

    def cluster_role(self, name):
        if name == self.leader:
            return "standby_leader" if self.standby else "leader"
        if self.sync_mode() and name in self.sync:
            return "quorum_standby" if self.sync_mode() == "quorum" else "sync_standby"
        return "replica"

    def status_role(self, name):
        if name == self.leader:
            return "standby_leader" if self.standby else ("primary" if self.version >= "4" else "master")
        return "replica"

    def _changed_config(self):
        for name in self.names:
            self.due[name] = (self.now + self.pickup[name], copy.deepcopy(self.config))

    def lose(self, name, after=0, polls=1):
        self.miss[name] = [after, polls]

    def _reachable(self, name):
        if name in self.down:
            return False
        after, polls = self.miss.get(name, (0, 0))
        if after:
            self.miss[name][0] -= 1
        elif polls:
            self.miss[name][1] -= 1
            return False
        return True

    # client interface ----------------------------------------------------------------------------------------
    def call(self, method, path, body=None, *, base=None, timeout=None, who=None, ok=(200,)):
        status, payload = self.request(method, path, body, base=base, timeout=timeout, who=who)
        if status not in ok:
            raise http_error(method, path, who or base or self.api_url, status, payload)
        return payload

    def request(self, method, path, body=None, *, base=None, timeout=None, who=None):
        self.now += 0.01
        self._tick()
        name = (base or self.api_url).rstrip("/").rsplit("/", 1)[-1]
        self.requests.append((method, path, name, copy.deepcopy(body)))
        if (method == "GET" and path == "/patroni" and not self._reachable(name)) or name in self.down:
            raise PatroniError("%s %s on %s: unreachable (fake)" % (method, path, who or name))
        handler = getattr(self, "_%s_%s" % (method, path.strip("/").replace("/", "_")))
        status, payload = handler(name, body)
        hook = self.hooks.pop((method, path, name), None)
        if hook:
            hook()
        return status, payload

    def _GET_cluster(self, name, body):
        members = []
        for n in self.names:
            m = {
                "name": n,
                "role": self.cluster_role(n),
                "state": "streaming" if n != self.leader and self.version >= "4" else "running",
                "api_url": "http://m/%s/patroni" % n,
                "host": "127.0.0.1",
                "port": 5432 + self.names.index(n),
                "timeline": 1,
            }
            if n != self.leader:
                m["lag"] = 0
            if self.pending(n):
                m["pending_restart"] = True
            members.append(m)
        return 200, {"members": members, "scope": "fake"}

    def _GET_patroni(self, name, body):
        status = {
            "state": "running",
            "role": self.status_role(name),
            "server_version": 150000,
            "timeline": 1,
            "patroni": {"version": self.version, "scope": "fake", "name": name},
            "postmaster_start_time": "2026-01-01 00:00:00+00:00",
            "dcs_last_seen": int(self.now),
        }
        if name == self.leader and not self.standby:
            status["xlog"] = {"location": self.lsn}
        else:
            status["xlog"] = {"received_location": self.lsn, "replayed_location": self.lsn}
        if self.pending(name):
            status["pending_restart"] = True
        return 200, status

    def _GET_config(self, name, body):
        return 200, copy.deepcopy(self.config)

    def _PATCH_config(self, name, body):
        if not self.auth_ok:
            return 401, "no auth header received"
        if not body:
            return 400, ""
        if merge(self.config, body):
            self._changed_config()
        return 200, copy.deepcopy(self.config)

    def _PUT_config(self, name, body):
        if not self.auth_ok:
            return 401, "no auth header received"
        if self.config != body:
            self.config = copy.deepcopy(body)
            self._changed_config()
        return 200, copy.deepcopy(body)

    def _POST_restart(self, name, body):
        if not self.auth_ok:
            return 401, "no auth header received"
        body = body or {}
        role = body.get("role")
        allowed = ("primary", "standby_leader", "replica") if self.version >= "4" else ("master", "replica")
        if role is not None and role not in allowed:
            return 400, "PostgreSQL role should be either %s" % " or ".join(allowed)
        if role is not None and role != self.status_role(name):
            return 503, "restart conditions are not satisfied"
        if "restart_pending" in body and not self.pending(name):
            return 503, "restart conditions are not satisfied"
        self.running[name] = self._restart_only(self.applied[name])
        self.lsn += 10
        return 200, "restarted successfully"

    def _POST_switchover(self, name, body):
        if not self.auth_ok:
            return 401, "no auth header received"
        if body.get("leader") != self.leader:
            return 412, "leader name does not match"
        candidate = body.get("candidate")
        if self.sync_mode() == "sync" and candidate not in self.sync:
            return 412, "candidate name does not match with sync_standby"
        old = self.leader
        self.leader = candidate
        self.sync.discard(candidate)
        self.running[old] = self._restart_only(self.applied[old])  # the demoted primary restarts
        self.lsn += 10
        return 200, "Successfully switched over to %s" % candidate
