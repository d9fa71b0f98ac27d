# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's config.toml and hosts.toml as data: the CRI settings per config version, and a small TOML writer.

containerd 1.x reads config version 2 (one CRI plugin, ``io.containerd.grpc.v1.cri``); 2.x reads version 3, where
the CRI settings are split between ``io.containerd.cri.v1.images`` and ``io.containerd.cri.v1.runtime``
(containerd's docs/cri/config.md and its config migration notes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class ContainerdConfigError(ValueError):
    pass


def merge(base, override):
    """Deep merge: dicts merge key by key, anything else in override replaces."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def cri_config(
    config_version,
    sandbox_image,
    *,
    systemd_cgroup=True,
    cni_bin_dir="/opt/cni/bin",
    cni_conf_dir="/etc/cni/net.d",
    registry_config_path="/etc/containerd/certs.d",
    cri_options=None,
    overrides=None,
):
    """The whole config.toml as a dict for containerd's config version 2 (1.x) or 3 (2.x).

    cri_options go into the table that holds the CRI runtime options (e.g. restrict_oom_score_adj);
    overrides are merged last into the whole document.
    """
    version = int(config_version)
    runc = {
        "runtime_type": "io.containerd.runc.v2",
        "options": {"SystemdCgroup": bool(systemd_cgroup)},
    }
    containerd = {"default_runtime_name": "runc", "runtimes": {"runc": runc}}
    if version == 2:
        cri = {
            "sandbox_image": sandbox_image,
            "containerd": containerd,
            "cni": {"bin_dir": cni_bin_dir, "conf_dir": cni_conf_dir},
            "registry": {"config_path": registry_config_path},
        }
        plugins = {"io.containerd.grpc.v1.cri": merge(cri, cri_options)}
    elif version == 3:
        images = {
            "pinned_images": {"sandbox": sandbox_image},
            "registry": {"config_path": registry_config_path},
        }
        runtime = {"containerd": containerd, "cni": {"bin_dirs": [cni_bin_dir], "conf_dir": cni_conf_dir}}
        plugins = {
            "io.containerd.cri.v1.images": images,
            "io.containerd.cri.v1.runtime": merge(runtime, cri_options),
        }
    else:
        raise ContainerdConfigError(
            "config version must be 2 (containerd 1.x) or 3 (containerd 2.x), got %r" % (config_version,)
        )
    return merge({"version": version, "plugins": plugins}, overrides)


def config_version_for(containerd_version):
    """2 for containerd 1.x, 3 for 2.x (from 'containerd github.com/containerd/containerd v1.6.20 ...' or '2.1.4')."""
    match = re.search(r"(?:^|[\sv])([0-9]+)\.[0-9]+\.[0-9]+", " " + str(containerd_version))
    if not match:
        raise ContainerdConfigError("cannot read a containerd version from %r" % (containerd_version,))
    major = int(match.group(1))
    if major == 1:
        return 2
    if major == 2:
        return 3
    raise ContainerdConfigError("containerd %s is not supported (1.x and 2.x are)" % match.group(0).strip())


def hosts_config(registry):
    """hosts.toml for one registry: {'server': url, 'hosts': {url: {capabilities, skip_verify, ca, ...}}}."""
    if not isinstance(registry, dict):
        raise ContainerdConfigError("a registry entry must be a dict with server and/or hosts")
    unknown = sorted(set(registry) - {"server", "hosts"})
    if unknown:
        raise ContainerdConfigError("unknown registry keys %s (allowed: server, hosts)" % ", ".join(unknown))
    doc = {}
    if registry.get("server"):
        doc["server"] = registry["server"]
    if registry.get("hosts"):
        doc["host"] = {url: dict(opts or {}) for url, opts in registry["hosts"].items()}
    server = str(registry.get("server") or "")
    if server.startswith("http://") and server not in doc.get("host", {}):
        # containerd 1.6 resolves a plain-HTTP `server` over HTTPS ("server gave HTTP response to HTTPS client")
        # unless the same URL is also a host entry; 1.7 and 2.x accept either.
        doc.setdefault("host", {})[server] = {"capabilities": ["pull", "resolve"]}
    if not doc:
        raise ContainerdConfigError("a registry entry needs server or hosts")
    return doc


def _key(key):
    key = str(key)
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value, where):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item, where) for item in value) + "]"
    raise ContainerdConfigError("%s: cannot write a %s to TOML" % (where, type(value).__name__))


def to_toml(data):
    """TOML text for a dict of tables, scalars and lists of scalars (what containerd's files use)."""
    if not isinstance(data, dict):
        raise ContainerdConfigError("to_toml needs a dict")
    lines = []

    def table(node, path):
        scalars = [(k, v) for k, v in node.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in node.items() if isinstance(v, dict)]
        if path and (scalars or not tables):
            if lines:
                lines.append("")
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for key, value in scalars:
            if isinstance(value, (list, tuple)) and any(isinstance(item, dict) for item in value):
                raise ContainerdConfigError("%s: arrays of tables are not supported" % ".".join(path + [str(key)]))
            lines.append("%s = %s" % (_key(key), _value(value, ".".join(path + [str(key)]))))
        for key, value in tables:
            table(value, path + [str(key)])

    table(data, [])
    return "\n".join(lines) + "\n"
