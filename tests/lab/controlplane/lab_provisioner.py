#!/usr/bin/env python3
"""Lab stand-in for the cluster's dynamic volume provisioners (OpenEBS hostpath, NFS).

On the fixture API server the nodes are kwok fakes, and on the kubeadm cluster the provisioner images are idle
stand-ins, so the real provisioners never run. This process plays their part against a real API server: the PV
controller marks a claim with the provisioner its StorageClass names
(annotation volume.kubernetes.io/storage-provisioner; for WaitForFirstConsumer classes only after the
scheduler picked a node), and for every such claim whose provisioner is in our set we create a hostPath
PersistentVolume under --root, pre-bound through claimRef, that the PV controller then binds. Released
PVs we provisioned with reclaimPolicy Delete are deleted together with their directory. With --node-paths the
directories are the nodes' (the kubelet makes them, type DirectoryOrCreate; a released one stays on its node).
--kubeconfig is waited for and re-read when it changes (the kubeadm cluster's is written by `kubeadm init`).
"""

import argparse
import logging
import os
import shutil
import signal
import sys
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

ANN_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_PROVISIONER_BETA = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
LOG = logging.getLogger("lab-provisioner")
# Provisioners of node-local volumes, which (like OpenEBS' hostpath provisioner) refuse shared access modes.
SINGLE_NODE = {"openebs.io/local"}


class Provisioner:
    def __init__(self, api: client.CoreV1Api, storage: client.StorageV1Api, names: set, root: str, node_paths: bool):
        self.api = api
        self.storage = storage
        self.names = names
        self.root = root
        self.node_paths = node_paths

    def claim_provisioner(self, pvc) -> str:
        ann = pvc.metadata.annotations or {}
        return ann.get(ANN_PROVISIONER) or ann.get(ANN_PROVISIONER_BETA) or ""

    def wants(self, pvc) -> bool:
        return (
            pvc.status.phase == "Pending"
            and not pvc.spec.volume_name
            and pvc.metadata.deletion_timestamp is None
            and self.claim_provisioner(pvc) in self.names
        )

    def provision(self, pvc) -> None:
        meta = pvc.metadata
        shared = set(pvc.spec.access_modes or []) & {"ReadWriteMany", "ReadOnlyMany"}
        if shared and self.claim_provisioner(pvc) in SINGLE_NODE:
            LOG.warning(
                "%s/%s: %s volumes are ReadWriteOnce only, not %s",
                meta.namespace,
                meta.name,
                self.claim_provisioner(pvc),
                sorted(shared),
            )
            return
        pv_name = f"pvc-{meta.uid}"
        try:
            self.api.read_persistent_volume(pv_name)
            return  # already provisioned; the PV controller finishes the binding
        except ApiException as err:
            if err.status != 404:
                raise
        sc = self.storage.read_storage_class(pvc.spec.storage_class_name)
        path = os.path.join(self.root, f"{meta.namespace}-{meta.name}-{meta.uid}")
        if not self.node_paths:
            os.makedirs(path, exist_ok=True)  # never mounted: kwok pods run no containers
        node = (meta.annotations or {}).get(ANN_SELECTED_NODE)
        affinity = None
        if node:  # local volumes are pinned to the node the scheduler chose, as OpenEBS hostpath does
            term = client.V1NodeSelectorTerm(
                match_expressions=[
                    client.V1NodeSelectorRequirement(key="kubernetes.io/hostname", operator="In", values=[node])
                ]
            )
            affinity = client.V1VolumeNodeAffinity(required=client.V1NodeSelector(node_selector_terms=[term]))
        pv = client.V1PersistentVolume(
            metadata=client.V1ObjectMeta(name=pv_name, annotations={ANN_PROVISIONED_BY: self.claim_provisioner(pvc)}),
            spec=client.V1PersistentVolumeSpec(
                capacity={"storage": pvc.spec.resources.requests["storage"]},
                access_modes=pvc.spec.access_modes,
                volume_mode=pvc.spec.volume_mode or "Filesystem",
                storage_class_name=pvc.spec.storage_class_name,
                persistent_volume_reclaim_policy=sc.reclaim_policy or "Delete",
                mount_options=sc.mount_options,
                host_path=client.V1HostPathVolumeSource(path=path, type="DirectoryOrCreate"),
                node_affinity=affinity,
                claim_ref=client.V1ObjectReference(
                    api_version="v1",
                    kind="PersistentVolumeClaim",
                    namespace=meta.namespace,
                    name=meta.name,
                    uid=meta.uid,
                    resource_version=meta.resource_version,
                ),
            ),
        )
        self.api.create_persistent_volume(pv)
        LOG.info("provisioned %s for %s/%s at %s", pv_name, meta.namespace, meta.name, path)

    def reclaim(self) -> None:
        for pv in self.api.list_persistent_volume().items:
            ann = pv.metadata.annotations or {}
            if (
                ann.get(ANN_PROVISIONED_BY) in self.names
                and pv.status.phase == "Released"
                and pv.spec.persistent_volume_reclaim_policy == "Delete"
                and pv.spec.host_path is not None
            ):
                path = pv.spec.host_path.path
                if not self.node_paths and os.path.realpath(path).startswith(os.path.realpath(self.root) + os.sep):
                    shutil.rmtree(path, ignore_errors=True)
                try:
                    self.api.delete_persistent_volume(pv.metadata.name)
                    LOG.info("deleted released %s", pv.metadata.name)
                except ApiException as err:
                    if err.status != 404:
                        raise

    def reconcile_all(self) -> str:
        claims = self.api.list_persistent_volume_claim_for_all_namespaces()
        for pvc in claims.items:
            if self.wants(pvc):
                self.safe(self.provision, pvc)
        self.safe(self.reclaim)
        return claims.metadata.resource_version

    @staticmethod
    def safe(func, *args) -> None:
        try:
            func(*args)
        except ApiException as err:
            LOG.warning("%s failed: %s %s", func.__name__, err.status, err.reason)

    def serve_once(self, resync: int) -> None:
        """A full reconcile, then the claims' changes for up to resync seconds."""
        try:
            version = self.reconcile_all()
            stream = watch.Watch().stream(
                self.api.list_persistent_volume_claim_for_all_namespaces,
                resource_version=version,
                timeout_seconds=resync,
            )
            for event in stream:
                pvc = event["object"]
                if event["type"] in ("ADDED", "MODIFIED") and self.wants(pvc):
                    self.safe(self.provision, pvc)
        except Exception as err:  # the API server may restart under us; keep serving
            LOG.warning("loop error: %s", err)
            time.sleep(2)


def serve(kubeconfig: str, names: set, root: str, node_paths: bool, resync: int) -> None:
    """Serve the cluster of kubeconfig; wait for the file and start over with the new one when it changes."""
    loaded, provisioner = None, None
    while True:
        try:
            stamp = os.stat(kubeconfig).st_mtime_ns
        except FileNotFoundError:
            time.sleep(2)  # no cluster yet
            continue
        if stamp != loaded:
            api_client = config.new_client_from_config(config_file=kubeconfig)
            apis = client.CoreV1Api(api_client), client.StorageV1Api(api_client)
            provisioner = Provisioner(*apis, names, root, node_paths)
            loaded = stamp
            LOG.info("using %s", kubeconfig)
        provisioner.serve_once(resync)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--provisioners", required=True, help="comma-separated provisioner names to serve")
    parser.add_argument("--root", required=True, help="directory holding the hostPath volumes")
    parser.add_argument("--node-paths", action="store_true", help="--root is on the nodes (real kubelets)")
    parser.add_argument("--resync", type=int, default=10, help="seconds between full reconciles")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not args.node_paths:
        os.makedirs(args.root, exist_ok=True)
    names = {name.strip() for name in args.provisioners.split(",") if name.strip()}
    LOG.info("serving provisioners %s under %s", sorted(names), args.root)
    serve(args.kubeconfig, names, args.root, args.node_paths, args.resync)
    return 0


if __name__ == "__main__":
    sys.exit(main())
