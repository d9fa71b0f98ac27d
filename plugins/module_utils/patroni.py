# -*- coding: utf-8 -*-
# Copyright: (c) baremetal.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Patroni REST API client on ansible.module_utils.urls (shipped with the module, so it also runs with a
Patroni pod's own python3)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import Request, make_context
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni_logic import RUNNING_STATES


def connection_argument_spec():
    """Options shared by patroni_config and patroni_info."""
    return dict(
        api_url=dict(type="str", default="http://127.0.0.1:8008"),
        username=dict(type="str", fallback=(env_fallback, ["PATRONI_RESTAPI_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["PATRONI_RESTAPI_PASSWORD"])),
        ca_path=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        use_proxy=dict(type="bool", default=False),
        timeout=dict(type="int", default=10),
    )


CONNECTION_REQUIRED_BY = {"client_key": ["client_cert"]}


class PatroniError(Exception):
    """A failed call; the message names the member, the request and the HTTP status."""

    def __init__(self, msg, status=None):
        super(PatroniError, self).__init__(msg)
        self.status = status


def member_base_url(api_url):
    """http://h:8008/patroni (as /cluster lists it) -> http://h:8008."""
    url = api_url.rstrip("/")
    return url[: -len("/patroni")] if url.endswith("/patroni") else url


class PatroniClient:
    """Calls one member's REST API (or another member's, through base=) with ansible.module_utils.urls.Request:
    basic auth sent up front, the TLS files loaded once, no ~/.netrc, no redirects, proxies only with use_proxy."""

    def __init__(self, params):
        self.api_url = params["api_url"].rstrip("/")
        self.timeout = params.get("timeout") or 10
        self.username = params.get("username")
        try:
            context = make_context(
                cafile=params.get("ca_path"),
                validate_certs=params.get("validate_certs", True),
                client_cert=params.get("client_cert"),
                client_key=params.get("client_key"),
            )
        except (OSError, ssl.SSLError) as exc:
            raise PatroniError("cannot load the TLS files (ca_path, client_cert, client_key): %s" % exc) from None
        self._request = Request(
            headers={"Accept": "application/json"},
            use_proxy=bool(params.get("use_proxy", False)),
            timeout=self.timeout,
            url_username=self.username,
            url_password=(params.get("password") or "") if self.username is not None else None,
            force_basic_auth=self.username is not None,
            follow_redirects="none",
            use_netrc=False,
            context=context,
        )

    def request(self, method, path, body=None, *, base=None, timeout=None, who=None):
        """(status, payload) of one call; payload is parsed JSON or text. Raises PatroniError if unreachable."""
        url = (base or self.api_url).rstrip("/") + path
        who = who or (base or self.api_url)
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            resp = self._request.open(method, url, data=data, headers=headers, timeout=timeout or self.timeout)
            status, raw = resp.getcode(), resp.read()
        except HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (URLError, socket.timeout, ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PatroniError("%s %s on %s: unreachable (%s)" % (method, path, who, reason)) from None
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.strip()

    def call(self, method, path, body=None, *, base=None, timeout=None, who=None, ok=(200,)):
        """The payload of a call answered with an accepted status; any other status raises PatroniError."""
        status, payload = self.request(method, path, body, base=base, timeout=timeout, who=who)
        if status not in ok:
            raise http_error(method, path, who or base or self.api_url, status, payload)
        return payload


def check_credentials(client, who=None):
    """Prove the credentials with a request that needs them and changes nothing: PATCH /config with an empty
    body. Patroni (3.x and 4.x) checks access first (401 bad credentials, 403 allowlist or client
    certificate), then refuses the empty body with 400 before it reads the DCS."""
    status, payload = client.request("PATCH", "/config", {}, who=who)
    if status == 400:
        return True
    raise http_error("PATCH", "/config (empty body, credentials check)", who or client.api_url, status, payload)


def http_error(method, path, who, status, payload):
    return PatroniError(
        "%s %s on %s answered HTTP %s%s: %s" % (method, path, who, status, _hint(status), _short(payload)), status
    )


def _hint(status):
    return {
        401: " (wrong or missing username/password)",
        403: " (client not allowed: allowlist or client certificate)",
        409: " (concurrent change or restart already scheduled)",
        412: " (leader mismatch)",
        503: " (unavailable or conditions not satisfied)",
    }.get(status, "")


def _short(payload):
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return text[:300] or "(empty body)"


def patroni_version(status_payload):
    return str((status_payload.get("patroni") or {}).get("version", "")) if isinstance(status_payload, dict) else ""


def cluster_members(client):
    """(cluster payload, members): /cluster merged with each member's live /patroni answer."""
    cluster = client.call("GET", "/cluster")
    members = []
    for item in cluster.get("members") or []:
        member = dict(
            name=item.get("name"),
            role=item.get("role"),
            state=item.get("state"),
            lag=item.get("lag"),
            timeline=item.get("timeline"),
            host=item.get("host"),
            port=item.get("port"),
            tags=item.get("tags") or {},
            api_url=member_base_url(item.get("api_url") or ""),
            pending_restart=bool(item.get("pending_restart")),
            pending_restart_reason=item.get("pending_restart_reason"),
            reachable=False,
            patroni_state=None,
            server_version=None,
            postmaster_start_time=None,
            patroni_version=None,
            xlog={},
        )
        try:
            status = client.call("GET", "/patroni", base=member["api_url"], who=_who(member), ok=(200, 503))
            member.update(
                pending_restart=bool(status.get("pending_restart")),
                patroni_state=status.get("state"),
                server_version=status.get("server_version"),
                patroni_version=patroni_version(status),
                postmaster_start_time=status.get("postmaster_start_time"),
                pending_restart_reason=status.get("pending_restart_reason"),
                xlog=status.get("xlog") or {},
                reachable=True,
            )
        except PatroniError:
            pass  # every key is set above: an unreachable member keeps what /cluster says
        members.append(member)
    return cluster, members


def _who(member):
    return "member %s (%s)" % (member["name"], member["api_url"])


def unhealthy(members):
    """Messages for members that are down, unreachable or not running."""
    problems = []
    for m in members:
        if not m["reachable"]:
            problems.append("%s: REST API unreachable" % _who(m))
        elif m.get("state") not in RUNNING_STATES:
            problems.append("%s: state %s" % (_who(m), m.get("state")))
    return problems


def wait_for(predicate, timeout, interval=1.0):
    """Poll predicate() until it returns a truthy value or timeout seconds pass; returns the last value."""
    deadline = time.time() + max(timeout, 0)
    while True:
        value = predicate()
        if value or time.time() >= deadline:
            return value
        time.sleep(interval)
