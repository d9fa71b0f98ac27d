# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the kubeadm roles (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils import kubeadm_config as kc


def _kubeadm_config(kubernetes_version, advertise_address, node_name, **kwargs):
    try:
        return kc.documents(kubernetes_version, advertise_address, node_name, **kwargs)
    except kc.KubeadmConfigError as err:
        raise AnsibleFilterError("kubeadm_config: %s" % err) from None


def _network_error(value, name="network"):
    """ "" for a network in CIDR form (host bits zero), else why not."""
    try:
        kc.network(name, value)
    except kc.KubeadmConfigError as err:
        return str(err)
    return ""


def _kubeadm_join_config(join_command_output, node_name, **kwargs):
    try:
        endpoint, token, hashes = kc.parse_join_command(join_command_output)
        return kc.join_document(endpoint, token, hashes, node_name, **kwargs)
    except kc.KubeadmConfigError as err:
        raise AnsibleFilterError("kubeadm_join_config: %s" % err) from None


def _kubeadm_drift(running, desired_documents):
    """The running ClusterConfiguration (a dict or the ConfigMap's YAML text) against the desired documents."""
    if isinstance(running, str):
        running = yaml.safe_load(running) or {}
    desired = next((d for d in desired_documents if d.get("kind") == "ClusterConfiguration"), {})
    return kc.drift(running, desired)


class FilterModule(object):
    def filters(self):
        return {
            "kubeadm_config": _kubeadm_config,
            "kubeadm_join_config": _kubeadm_join_config,
            "kubeadm_drift": _kubeadm_drift,
            "network_error": _network_error,
        }
