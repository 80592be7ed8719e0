"""The namespace-lab scenarios of tests/rules/test_lab_rules.py and tests/trace/test_kernel_agreement.py,
as data: how to break the lab, which flows to ask the kernel about, which security groups the trace
needs (the fabric's filtering is invisible to any bundle), and which cause the rules must name.

A probe is asked from a host namespace (`ping`, `nc`), so the trace starts on the same host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.cluster import RHEL_DEFAULT, FlannelLab
from tests.lab.netns import NetnsLab

POD0, POD1, NODE0, NODE1 = "10.244.0.5", "10.244.1.5", "192.168.0.11", "192.168.0.12"
FLANNEL_RULES = """
iptables -A FORWARD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
iptables -A FORWARD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE --random-fully
"""


@dataclass(frozen=True)
class Probe:
    """One flow: asked of the kernel from host `src`, then traced by netsnap from the same host."""

    src: str
    dst: str
    proto: str = "icmp"
    port: int | None = None
    size: int | None = None
    listener: str | None = None  # the host that listens on `port` (tcp/udp)

    @property
    def label(self) -> str:
        port = f":{self.port}" if self.port else ""
        size = f" size {self.size}" if self.size else ""
        return f"{self.src} -> {self.dst}{port} {self.proto}{size}"

    def ask(self, fl: FlannelLab) -> bool:
        """The kernel's answer."""
        if self.proto == "icmp":
            return fl.ping(self.src, self.dst, size=self.size)
        if self.proto == "tcp":
            assert self.listener and self.port
            fl.listen(self.listener, self.port)
            return fl.tcp_connects(self.src, self.dst, self.port)
        assert self.listener and self.port
        return fl.udp_delivered(self.src, self.listener, self.dst, self.port)


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: Callable[[NetnsLab], FlannelLab]
    probes: tuple[Probe, ...]
    kernel: tuple[bool, ...]  # what the kernel must say, probe by probe (the scenario really is broken, or healthy)
    causes: frozenset[tuple[str, str]] = frozenset()  # (cause, host) the rules must name (error or warning)
    groups: Callable[[Path], dict[str, Path]] | None = None  # HOST -> security-group export, written under a dir
    hosts: int = 2
    notes: tuple[str, ...] = field(default_factory=tuple)


def _healthy(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2).build()
    for h in fl.hosts:
        fl.sh(h.name, FLANNEL_RULES)
    return fl


def _reject(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", RHEL_DEFAULT)
    return fl


def _fabric_drop(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2).build()
    lab.sh("fabric", "sysctl -qw net.bridge.bridge-nf-call-iptables=1 && "
                     f"iptables -A FORWARD -p udp --dport 8472 -d {NODE1} -j DROP")
    return fl


def _native_sg(path: Path, *rules: str) -> Path:
    body = "format: netsnap-sg/1\ngroup: sg-lab\nrules:\n"
    for rule in rules:
        fields = dict(item.split("=", 1) for item in rule.split())
        body += "  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"
    path.write_text(body)
    return path


def _fabric_groups(directory: Path) -> dict[str, Path]:
    """What the fabric enforces, as exports: master allows all; node1 lets only ICMP in from the nodes."""
    return {
        "master": _native_sg(directory / "master.yaml", "direction=ingress protocol=any",
                             "direction=egress protocol=any"),
        NODE1: _native_sg(directory / "node1.yaml", "direction=ingress protocol=icmp remote=192.168.0.0/24",
                          "direction=egress protocol=any"),
    }


def _wrong_vtep(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2, vtep={"master": "172.16.0.11"}).build()
    fl.sh("node1", "ip addr flush dev eth0 && ip addr add 172.17.0.12/24 dev eth0")  # node1 cannot reach 172.16/24
    return fl


def _forward_drop(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", "iptables -P FORWARD DROP")
    return fl


def _two_defaults(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", "ip addr add 10.99.0.1/32 dev lo && iptables -A INPUT -i eth0 -d 10.99.0.1 -j DROP")
    fl.sh("master", f"ip route add default via 172.16.0.12 dev eth0 && ip route append default via {NODE1} dev eth1")
    return fl


def _same_subnet(lab: NetnsLab) -> FlannelLab:
    fl = FlannelLab(lab, 2).build(first_address={"master": "ip addr add 192.168.0.21/24 dev eth0"})
    fl.sh("node1", "sysctl -qw net.ipv4.conf.all.arp_ignore=1")
    return fl


def _small_mtu(lab: NetnsLab) -> FlannelLab:
    return FlannelLab(lab, 2).build(eth1_mtu={"node1": 1400})


PODS = (Probe("master", POD1), Probe("node1", POD0), Probe("master", NODE1))

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthy", _healthy, PODS, (True, True, True)),
    Scenario("reject", _reject,
             (*PODS, Probe("master", NODE1, "tcp", 22, listener="node1"),
              Probe("master", NODE1, "tcp", 23, listener="node1"),
              Probe("master", NODE1, "udp", 9000, listener="node1"),
              Probe("node1", NODE0, "udp", 9000, listener="master")),
             (False, False, True, True, False, False, True),
             causes=frozenset({("iptables-reject", "node1")})),
    Scenario("fabric_drop", _fabric_drop, PODS, (False, False, True), groups=_fabric_groups),
    Scenario("wrong_vtep", _wrong_vtep, PODS[:2], (False, False),
             causes=frozenset({("flannel-wrong-iface", "master")})),
    # node1's own traffic to pod0 is OUTPUT/INPUT there, not FORWARD: only master's reaches node1's FORWARD chain
    Scenario("forward_drop", _forward_drop, PODS, (False, True, True),
             causes=frozenset({("forward-policy-drop", "node1")})),
    Scenario("two_defaults", _two_defaults, (Probe("master", "10.99.0.1"),), (False,),
             causes=frozenset({("duplicate-default-route", "master")})),
    Scenario("same_subnet", _same_subnet, (Probe("master", NODE1),), (False,),
             causes=frozenset({("duplicate-subnet-route", "master")})),
    Scenario("small_mtu", _small_mtu, (Probe("master", POD1, size=1428), Probe("master", POD1)), (False, True),
             causes=frozenset({("mtu-mismatch", "node1")})),
)
BY_NAME = {s.name: s for s in SCENARIOS}
