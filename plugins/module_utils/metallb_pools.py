# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MetalLB address pools from inventory: every problem with them (bad ranges, overlaps), and their objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
POOL_KEYS = {"addresses", "auto_assign", "avoid_buggy_ips", "l2", "interfaces"}


def address_range(text):
    """(first, last) ip_address of "10.0.0.0/28" or "10.0.0.10-10.0.0.20"; ValueError when neither."""
    text = str(text).strip()
    if "-" in text:
        first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
        if first.version != last.version or first > last:
            raise ValueError("%r: the range must go up within one IP version" % text)
        return first, last
    network = ipaddress.ip_network(text, strict=True)
    return network[0], network[-1]


def problems(pools):
    """Every problem with the pools dict (name -> {addresses, ...}), as messages naming pool and range."""
    if not isinstance(pools, dict):
        return ["metallb_pools must be a dict of pool name to {addresses: [...]}"]
    found, ranges = [], []
    for name, pool in pools.items():
        if not _NAME.match(str(name)):
            found.append("pool %r: the name must be a DNS label" % (name,))
        if not isinstance(pool, dict):
            found.append("pool %s: must be a dict with addresses" % name)
            continue
        unknown = sorted(set(pool) - POOL_KEYS)
        if unknown:
            found.append(
                "pool %s: unknown keys %s (known: %s)" % (name, ", ".join(unknown), ", ".join(sorted(POOL_KEYS)))
            )
        addresses = pool.get("addresses")
        if not addresses or not isinstance(addresses, list):
            found.append("pool %s: addresses must be a non-empty list" % name)
            continue
        for text in addresses:
            try:
                first, last = address_range(text)
            except ValueError as exc:
                found.append("pool %s: %s is not a CIDR or a first-last range (%s)" % (name, text, exc))
                continue
            for other_name, other_text, other_first, other_last in ranges:
                if first.version == other_first.version and first <= other_last and other_first <= last:
                    found.append("pool %s: %s overlaps %s of pool %s" % (name, text, other_text, other_name))
            ranges.append((name, text, first, last))
    return found


def contains(pools, name, address):
    """Whether address lies in one of pool name's ranges (False for an unknown pool or a malformed address)."""
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return False
    for text in (pools.get(name) or {}).get("addresses") or []:
        try:
            first, last = address_range(text)
        except ValueError:
            continue
        if first.version == ip.version and first <= ip <= last:
            return True
    return False


def objects(pools, namespace, managed_by):
    """The IPAddressPool and L2Advertisement objects for the pools (L2 unless l2 is false)."""
    out = []
    labels = {"app.kubernetes.io/managed-by": managed_by}
    for name, pool in sorted(pools.items()):
        spec = {"addresses": [str(a) for a in pool["addresses"]], "autoAssign": bool(pool.get("auto_assign", True))}
        if pool.get("avoid_buggy_ips"):
            spec["avoidBuggyIPs"] = True
        out.append(
            {
                "apiVersion": "metallb.io/v1beta1",
                "kind": "IPAddressPool",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": spec,
            }
        )
        if pool.get("l2", True):
            l2 = {"ipAddressPools": [name]}
            if pool.get("interfaces"):
                l2["interfaces"] = [str(i) for i in pool["interfaces"]]
            out.append(
                {
                    "apiVersion": "metallb.io/v1beta1",
                    "kind": "L2Advertisement",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels},
                    "spec": l2,
                }
            )
    return out
