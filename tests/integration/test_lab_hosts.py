"""The lab hosts: four Debian machines booted with systemd-nspawn on the lab bridge.

Brings them up with tests/lab/hosts/up.sh (idempotent, needs root) and checks them the way the collection
uses them: Ansible over ssh with the lab inventory, apt through the lab's apt-cacher-ng, real systemd units,
and a network that reaches the bridge address and nothing else.
"""

import ipaddress
import json
import os
import subprocess
from pathlib import Path

import labenv
import pytest

pytestmark = pytest.mark.lab  # the lab's own tests: their own tier (make lab-test), they bring parts up

REPO = labenv.REPO
LAB_DIR = labenv.LAB_DIR
INVENTORY = REPO / "inventories/lab/hosts.yml"
ANSIBLE = REPO / ".venv/bin/ansible"
HOSTS = ["master", "node-0", "node-1", "node-2"]
PKG_HOST = "node-2"  # where containerd is installed, then purged again


@pytest.fixture(scope="module")
def lab() -> dict:
    return labenv.up("hosts")


def ansible(pattern: str, module: str, args: str = "", timeout: int = 600) -> dict:
    """Run an ad-hoc module through the lab inventory; return {host: result} (json callback)."""
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    cmd = [str(ANSIBLE), "-i", str(INVENTORY), pattern, "-m", module]
    if args:
        cmd += ["-a", args]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        out = json.loads(res.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible {module} gave no JSON: {res.stdout[-2000:]} {res.stderr[-2000:]}") from exc
    return out["plays"][0]["tasks"][0]["hosts"]


def shell(pattern: str, command: str, timeout: int = 600) -> dict:
    results = ansible(pattern, "ansible.builtin.shell", command, timeout=timeout)
    for host, r in results.items():
        assert r.get("rc") == 0, f"{host}: {command!r} failed: {r.get('stderr') or r.get('msg')}"
    return results


def test_env_file_and_key(lab):
    assert lab["LAB_INVENTORY"] == str(INVENTORY)
    key = Path(lab["LAB_SSH_KEY"])
    assert key.stat().st_mode & 0o777 == 0o600
    assert lab["LAB_HOSTS"].split() == HOSTS


def test_setup_reaches_every_host(lab):
    facts = ansible("all", "ansible.builtin.setup")
    assert sorted(facts) == sorted(HOSTS)
    for host in HOSTS:
        f = facts[host]["ansible_facts"]
        ip = lab[f"LAB_HOST_IP_{host.upper().replace('-', '_')}"]
        assert f["ansible_hostname"] == host
        assert f["ansible_default_ipv4"]["address"] == ip
        assert f["ansible_default_ipv4"]["gateway"] == lab["LAB_BRIDGE_IP"]
        assert f["ansible_virtualization_type"] == "container"
        assert "systemd-nspawn" in f["ansible_virtualization_tech_guest"]
        assert f["ansible_service_mgr"] == "systemd"
        assert f["ansible_distribution"] == "Debian"
    machine_ids = {facts[h]["ansible_facts"]["ansible_machine_id"] for h in HOSTS}
    assert len(machine_ids) == len(HOSTS), "hosts must not share a machine-id (kubelet uses it)"


def test_systemd_running_and_root_login_key_only(lab):
    out = shell("all", "systemctl is-system-running || true; sshd -T | grep -Ei '^(permitrootlogin|passwordauth)'")
    for host, r in out.items():
        lines = r["stdout"].splitlines()
        assert lines[0] in ("running", "degraded"), f"{host}: {lines[0]}"
        assert "permitrootlogin without-password" in lines
        assert "passwordauthentication no" in lines


def test_network_reaches_only_the_bridge(lab):
    bridge_ip = ipaddress.ip_address(lab["LAB_BRIDGE_IP"])
    lab_net = ipaddress.ip_network(f"{bridge_ip}/24", strict=False)
    routes = "ip -j -4 route show table all; echo; ip -j -6 route show table all; echo; "
    probe = f"curl -s -o /dev/null -w '%{{http_code}}' {lab['LAB_APT_PROXY_URL']}/"
    out = shell("all", routes + probe)
    for host, r in out.items():
        v4, v6, http_code = r["stdout"].split("\n\n")
        assert http_code != "000", f"{host} cannot reach the apt proxy on the bridge"
        for route in json.loads(v4):
            if route["dst"] == "default":
                assert route.get("gateway") == str(bridge_ip), f"{host}: default route not via the bridge: {route}"
            elif route.get("table") != "local" and route.get("type") not in ("broadcast", "local"):
                dst = ipaddress.ip_network(route["dst"], strict=False)
                # the lab's pod network (its stand-in for Calico): the host's own cni0 /24, the others' via them
                in_pod_net = dst.subnet_of(ipaddress.ip_network("10.244.0.0/16"))
                assert dst.subnet_of(lab_net) or dst.is_loopback or in_pod_net, (
                    f"{host}: route off the lab net: {route}"
                )
        for route in json.loads(v6 or "[]"):
            assert route["dst"] != "default", f"{host}: IPv6 default route {route}"
            assert route.get("dev") != "host0" or route.get("table") == "local", f"{host}: IPv6 route {route}"
    # The host does not forward what arrives on the bridge, so the default route leads nowhere else.
    forwarding = Path(f"/proc/sys/net/ipv4/conf/{lab['LAB_BRIDGE']}/forwarding").read_text().strip()
    assert forwarding == "0"


def test_containerd_installs_through_the_proxy(lab):
    proxy_log = LAB_DIR / "apt-cacher-ng/log/apt-cacher.log"
    before = proxy_log.read_text() if proxy_log.exists() else ""
    try:
        shell(
            PKG_HOST,
            # clean first: a .deb left in the host's own archive cache would bypass the proxy
            "apt-get clean && DEBIAN_FRONTEND=noninteractive apt-get update -q && "
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd",
        )
        out = shell(PKG_HOST, "systemctl is-active containerd; ctr version | grep -c Version")
        assert out[PKG_HOST]["stdout"].splitlines() == ["active", "2"]  # client and server answered
        served = proxy_log.read_text()[len(before) :]
        assert "containerd" in served, "the package was not fetched through the lab apt proxy"
        for other in set(HOSTS) - {PKG_HOST}:  # a service on one host is not seen from another
            out = shell(other, "systemctl is-active containerd || true")
            assert out[other]["stdout"].strip() != "active"
    finally:
        shell(PKG_HOST, "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove containerd runc")


def test_units_of_one_host_leave_others_alone(lab):
    """Each host has its own cgroup tree: restarting a unit on one host must not kill it elsewhere."""

    def ssh_pids():
        out = shell("all", "systemctl show -p MainPID --value ssh")
        return {h: r["stdout"].strip() for h, r in out.items()}

    before = ssh_pids()
    shell("master", "systemctl restart ssh")
    after = ssh_pids()
    assert after["master"] != before["master"]
    for host in set(HOSTS) - {"master"}:
        assert after[host] == before[host], f"restarting ssh on master restarted it on {host}"
