"""The lab's listening ports stay out of the kernel's ephemeral port range: a port in it can be taken as the
source port of any outgoing connection on the machine, and then the lab's server cannot bind it (seen: a
PostgreSQL of the Patroni lab failing with "could not bind ... Address already in use" during a cold run)."""

import re
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "tests" / "lab" / "lib.sh"
SPAN = {"LAB_PATRONI_REST_BASE": 7, "LAB_PATRONI_PG_BASE": 7, "LAB_K8S_ETCD_PORT": 1, "LAB_PATRONI_ETCD_PORT": 1}


def ephemeral_range() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_every_lab_port_is_below_the_ephemeral_range():
    ports = {m[0]: int(m[1]) for m in re.findall(r'^: "\$\{(LAB_\w+):=(\d+)\}"', LIB.read_text(), re.M)}
    ports = {k: v for k, v in ports.items() if k.endswith(("_PORT", "_BASE"))}
    assert "LAB_PATRONI_PG_BASE" in ports and len(ports) >= 8, ports
    low, high = ephemeral_range()
    for name, port in ports.items():
        last = port + SPAN.get(name, 0)
        assert last < min(low, 32768) or port > high, f"{name}={port}..{last} overlaps the ephemeral range {low}-{high}"
