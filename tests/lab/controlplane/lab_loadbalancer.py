#!/usr/bin/env python3
"""Lab stand-in for MetalLB's controller (address assignment only).

MetalLB's images cannot be fetched here, so the lab's metallb pods are idle stand-ins. This process plays the
controller's part against a real API server: each Service of type LoadBalancer (without a loadBalancerClass) gets
an address in its status from the IPAddressPool its `metallb.io/address-pool` annotation names, or without the
annotation from the pools with autoAssign (spec.loadBalancerIP when it is in the pool, else the first free one),
so `helm --wait` and clients see it as MetalLB would leave it. Nothing
announces the address on the network (no speaker). It waits for --kubeconfig to appear (the lab's kubeadm
cluster writes it when `kubeadm init` runs) and re-reads it when it changes (a reset and a new cluster).
"""

import argparse
import ipaddress
import logging
import os
import signal
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

POOL_ANNOTATION = "metallb.io/address-pool"
LOG = logging.getLogger("lab-loadbalancer")


def pool_addresses(pool: dict):
    """Every address of an IPAddressPool's spec.addresses (CIDRs and first-last ranges), in order."""
    for entry in pool.get("spec", {}).get("addresses", []):
        if "-" in entry:
            first, last = (ipaddress.ip_address(x.strip()) for x in entry.split("-"))
            for n in range(int(first), int(last) + 1):
                yield str(ipaddress.ip_address(n))
        else:
            yield from (str(a) for a in ipaddress.ip_network(entry, strict=False).hosts())


def assign_once(core: client.CoreV1Api, custom: client.CustomObjectsApi, namespaces: set) -> None:
    services = [s for s in core.list_service_for_all_namespaces().items if s.spec.type == "LoadBalancer"]
    pools = {
        p["metadata"]["name"]: p
        for p in custom.list_cluster_custom_object("metallb.io", "v1beta1", "ipaddresspools")["items"]
    }
    used = {i.ip for s in services for i in ((s.status.load_balancer and s.status.load_balancer.ingress) or [])}
    for svc in services:
        meta = svc.metadata
        if namespaces and meta.namespace not in namespaces:
            continue
        if (svc.status.load_balancer and svc.status.load_balancer.ingress) or svc.spec.load_balancer_class:
            continue
        named = (meta.annotations or {}).get(POOL_ANNOTATION)
        if named:
            candidates = [pools[named]] if named in pools else []
        else:
            candidates = [p for p in pools.values() if p.get("spec", {}).get("autoAssign", True)]
        wanted = svc.spec.load_balancer_ip
        choice = next(((p, a) for p in candidates for a in pool_addresses(p) if a == wanted), None) or next(
            ((p, a) for p in candidates for a in pool_addresses(p) if a not in used), None
        )
        if choice is None:
            continue  # MetalLB leaves it pending too
        pool, address = choice
        used.add(address)
        body = {"status": {"loadBalancer": {"ingress": [{"ip": address, "ipMode": "VIP"}]}}}
        core.patch_namespaced_service_status(meta.name, meta.namespace, body)
        LOG.info("gave %s/%s %s from pool %s", meta.namespace, meta.name, address, pool["metadata"]["name"])


def run(kubeconfig: str, namespaces: set, interval: float) -> None:
    loaded = None
    apis = None
    while True:
        try:
            stamp = os.stat(kubeconfig).st_mtime_ns
            if stamp != loaded:
                api_client = config.new_client_from_config(config_file=kubeconfig)
                apis = (client.CoreV1Api(api_client), client.CustomObjectsApi(api_client))
                loaded = stamp
                LOG.info("using %s", kubeconfig)
            assign_once(*apis, namespaces)
        except FileNotFoundError:
            pass  # no cluster yet
        except ApiException as err:
            if err.status != 404:  # 404: MetalLB's CRDs are not installed yet
                LOG.warning("API: %s %s", err.status, err.reason)
        except Exception as err:  # the API server may be down or restarting; keep serving
            LOG.warning("loop error: %s", err)
        time.sleep(interval)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True, help="the cluster's kubeconfig (waited for if missing)")
    parser.add_argument("--namespaces", default="", help="comma-separated namespaces to serve (default: all)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    namespaces = {n.strip() for n in args.namespaces.split(",") if n.strip()}
    LOG.info("serving LoadBalancer Services in %s", sorted(namespaces) or "all namespaces")
    run(args.kubeconfig, namespaces, args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
