# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the codescoring role (documented in the *.yml files here): the volume modes of codescoring_volumes
checked and turned into chart values, and flat dotted paths turned into the nested values a chart takes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

# Role-level volume name -> (dotted values path of the volume, kind). Kinds: data (the shared application
# volumes), backup, postgresql / redis (only with the built-in database / cache), tmp (temp-scan volumes).
VOLUMES = {
    "analysis_root": ("codescoring.persistentVolumes.analysisRoot", "data"),
    "media_root": ("codescoring.persistentVolumes.mediaRoot", "data"),
    "django_static": ("codescoring.persistentVolumes.djangoStatic", "data"),
    "backup": ("codescoring.backup.persistentVolume", "backup"),
    "postgresql": ("postgresql.persistentVolume", "postgresql"),
    "redis": ("redis.persistentVolume", "redis"),
    "huey_tmp": ("codescoring.huey.persistentVolumes.hueyTmp", "tmp"),
    "huey_package_scan_tmp": ("codescoring.huey.persistentVolumes.hueyPackageScanTmp", "tmp"),
    "huey_container_image_scan_tmp": ("codescoring.huey.persistentVolumes.hueyContainerImageScanTmp", "tmp"),
}

# Temp-scan volume -> (the worker whose /tmp it replaces, the prefix of that worker's ephemeral volume names).
# The vendor's recipe: drop the worker's /tmp emptyDir, keep its /etc/ssl/certs emptyDir, enable the claim.
TMP_WORKERS = {
    "huey_tmp": ("ipcsQueue", "ipcs-queue"),
    "huey_package_scan_tmp": ("tasksOsaPackageScan", "package-scan"),
    "huey_container_image_scan_tmp": ("tasksOsaContainerImageScan", "container-image-scan"),
}

MODES = ("storage_class", "volume_name", "existing_claim", "local")
OTHER_KEYS = ("size", "access_modes")
ACCESS_MODES = ("ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod")
SIZE = re.compile(r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?)?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _plain(obj):
    """A plain copy of nested dicts and lists (Ansible 2.19 hands filters lazy containers; never deepcopy them)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def volume_problems(volumes, builtin_postgresql=True, builtin_redis=True, horizontal_scaling=False):
    """Every problem with codescoring_volumes, each message naming the variable and the volume."""
    if volumes is None:
        return []
    if not isinstance(volumes, dict):
        return ["codescoring_volumes must be a dict of volume name -> settings"]
    out = []
    for name in sorted(volumes):
        where = "codescoring_volumes.%s" % name
        spec = volumes[name]
        if name not in VOLUMES:
            out.append("%s: unknown volume (known: %s)" % (where, ", ".join(sorted(VOLUMES))))
            continue
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            out.append("%s must be a dict" % where)
            continue
        kind = VOLUMES[name][1]
        if kind == "postgresql" and not builtin_postgresql:
            out.append("%s: only the built-in PostgreSQL has a volume (codescoring_postgresql_host is set)" % where)
        if kind == "redis" and not builtin_redis:
            out.append("%s: only the built-in Redis has a volume (external Redis URLs are set)" % where)
        unknown = sorted(set(spec) - set(MODES) - set(OTHER_KEYS))
        if unknown:
            out.append(
                "%s: unknown keys %s (a volume takes one of %s, and size, access_modes)"
                % (where, ", ".join(unknown), ", ".join(MODES))
            )
        chosen = [m for m in MODES if m in spec]
        if len(chosen) > 1:
            out.append("%s: choose exactly one mode, not %s" % (where, " and ".join(chosen)))
        for mode in ("storage_class", "volume_name", "existing_claim"):
            if mode in spec and not (isinstance(spec[mode], str) and DNS_SUBDOMAIN.match(spec[mode])):
                out.append("%s.%s must be a resource name, got %r" % (where, mode, spec[mode]))
        if "local" in spec:
            local = spec["local"]
            if not isinstance(local, dict) or set(local) - {"path", "node"}:
                out.append("%s.local must be a dict of path and node" % where)
            else:
                if not (isinstance(local.get("path"), str) and local["path"].startswith("/")):
                    out.append("%s.local.path must be an absolute directory on the node" % where)
                if not (isinstance(local.get("node"), str) and local["node"]):
                    out.append("%s.local.node must name the node that holds the directory" % where)
            if horizontal_scaling and kind == "data":
                out.append(
                    "%s: a local volume lives on one node, so it cannot serve codescoring_horizontal_scaling" % where
                )
        if "size" in spec and not (isinstance(spec["size"], str) and SIZE.match(spec["size"])):
            out.append("%s.size must be a quantity such as 20Gi, got %r" % (where, spec["size"]))
        if "access_modes" in spec:
            modes = spec["access_modes"]
            if not isinstance(modes, list) or not modes or any(m not in ACCESS_MODES for m in modes):
                out.append("%s.access_modes must be a non-empty list of %s" % (where, ", ".join(ACCESS_MODES)))
            elif horizontal_scaling and kind == "data" and "ReadWriteMany" not in modes:
                out.append("%s.access_modes: codescoring_horizontal_scaling needs ReadWriteMany" % where)
    return out


def _volume_values(spec, claim_key):
    out = {}
    if "storage_class" in spec:
        out["storageClass"] = spec["storage_class"]
    if "volume_name" in spec:
        out["volumeName"] = spec["volume_name"]
    if "existing_claim" in spec:
        out[claim_key] = spec["existing_claim"]
    if "local" in spec:
        out["localVolume"] = {"enabled": True, "path": spec["local"]["path"], "nodeHostname": spec["local"]["node"]}
    if "size" in spec:
        out["size"] = spec["size"]
    if "access_modes" in spec:
        out["accessModes"] = list(spec["access_modes"])
    return out


def volume_values(volumes, key_names=None, horizontal_scaling=False):
    """Flat dotted path -> value for codescoring_nest: each listed volume in its mode, temp-scan claims enabled
    with the worker's /tmp emptyDir removed, ReadWriteMany for the shared volumes when scaling horizontally."""
    volumes = _plain(volumes or {})
    bad = volume_problems(volumes, horizontal_scaling=horizontal_scaling)
    if bad:
        raise AnsibleFilterError("codescoring_volume_values: %s" % "; ".join(bad))
    keys = {"existingClaim": "existingClaim", "postgresqlExistingClaim": "exsistingClaim"}
    keys.update(_plain(key_names or {}))
    flat = {}
    for name in sorted(VOLUMES):
        path, kind = VOLUMES[name]
        listed = name in volumes
        spec = volumes.get(name) or {}
        claim_key = keys["postgresqlExistingClaim"] if kind == "postgresql" else keys["existingClaim"]
        values = _volume_values(spec, claim_key)
        shared = kind == "data" or (kind == "tmp" and listed)
        if horizontal_scaling and shared and "accessModes" not in values:
            values["accessModes"] = ["ReadWriteMany"]
        if kind == "tmp" and listed:
            values["enabled"] = True
            worker, prefix = TMP_WORKERS[name]
            flat["codescoring.huey.%s.ephemeralVolumes" % worker] = {
                "volumeMounts": [{"mountPath": "/etc/ssl/certs", "name": prefix + "-ssl-certs"}],
                "volumes": [{"name": prefix + "-ssl-certs", "emptyDir": {}}],
            }
        for key, value in values.items():
            flat[path + "." + key] = value
    return flat


def nest(flat):
    """{'a.b.c': 1, 'a.d': 2} -> {'a': {'b': {'c': 1}, 'd': 2}}; a value that is a dict is merged key by key with
    what other paths put there. A path cannot pass through a non-dict value."""
    if not isinstance(flat, dict):
        raise AnsibleFilterError("codescoring_nest: expects a dict of dotted path -> value")
    out = {}
    for path in sorted(flat, key=lambda p: str(p).count(".")):
        parts = str(path).split(".")
        if any(p == "" for p in parts):
            raise AnsibleFilterError("codescoring_nest: %r is not a dotted path" % (path,))
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise AnsibleFilterError("codescoring_nest: %s passes through a value that is not a dict" % path)
            node = child
        value = _plain(flat[path])
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            _merge(node[parts[-1]], value)
        else:
            node[parts[-1]] = value
    return out


def _merge(target, src):
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class FilterModule(object):
    def filters(self):
        return {
            "codescoring_volume_problems": volume_problems,
            "codescoring_volume_values": volume_values,
            "codescoring_nest": nest,
        }
