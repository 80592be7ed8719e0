"""The diagnostic rules on bundles the real collector captures from the network-namespace labs (issue 5).

Each scenario of tests/trace/test_kernel_agreement.py is built once per module (tests/lab), the kernel
is asked first (ping, so the scenario really is broken, or healthy) and the collector then runs in every
host namespace with flanneld's subnet.env under --sysroot (tests/rules/lab_helpers.py). The rules must
name the expected cause on the right host only, and quote the bundle file and line that shows it: every
quoted line is read back from the collected tarball. The lab is torn down before the assertions run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from netsnap.engine.findings import AnalysisResult, Finding, Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.model import Snapshot
from netsnap.model.evidence import Evidence
from netsnap.secgroups import SecurityGroups, attach
from tests.graph.consistency import assert_consistent
from tests.lab.cluster import REPO, RHEL_DEFAULT, FlannelLab
from tests.lab.netns import NetnsLab, skip_reason
from tests.rules.lab_helpers import bundle_line, collect_flannel_hosts

REASON = skip_reason()
pytestmark = [pytest.mark.netns, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

POD0, POD1 = "10.244.0.5", "10.244.1.5"
NODE1 = "192.168.0.12"
SERIOUS = (Severity.ERROR, Severity.WARNING)
CONNTRACK_MAX = "net.netfilter.nf_conntrack_max"
SG_FIXTURES = REPO / "fixtures" / "secgroups"
FLANNEL_RULES = """
iptables -A FORWARD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
iptables -A FORWARD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE --random-fully
"""


@dataclass
class LabRun:
    """One scenario's outcome: what the kernel said, the bundles, and the rules' result without security groups."""

    kernel: dict[str, bool | str]
    bundles: dict[str, str]
    snapshot: Snapshot
    result: AnalysisResult
    lab_collect: list[str] = field(default_factory=list)  # bundles from FlannelLab.collect itself (no subnet.env)

    def findings(self, cause: str, result: AnalysisResult | None = None) -> list[Finding]:
        return [f for f in (result or self.result).findings if f.cause == cause]


Probe = Callable[[FlannelLab], dict[str, bool | str]]


def run_scenario(out: Path, setup: Callable[[NetnsLab], FlannelLab], probe: Probe,
                 also_lab_collect: bool = False) -> LabRun:
    """Build, ask the kernel, collect, tear down, then load and run every rule."""
    with NetnsLab() as lab:
        fl = setup(lab)
        kernel = probe(fl)
        bundles = collect_flannel_hosts(fl, out)
        plain = fl.collect(out / "lab-collect") if also_lab_collect else []
    snapshot = load_snapshot(list(bundles.values()))
    result = run_rules(snapshot)
    crashed = [n.reason for n in result.not_evaluated if n.reason.startswith("rule failed")]
    assert not crashed, crashed
    assert_consistent(snapshot, result)  # the graph's blocked flows and the findings agree (issue 13)
    return LabRun(kernel, bundles, snapshot, result, plain)


def pods(fl: FlannelLab) -> dict[str, bool | str]:
    return {"pod0->pod1": fl.ping("c-master", POD1), "pod1->pod0": fl.ping("c-node1", POD0),
            "master->node1": fl.ping("master", NODE1)}


def quotes(run: LabRun, f: Finding, file: str, needle: str, host: str) -> Evidence:
    """The evidence of `f` that points at a line of `file` on `host` whose real text (read back from the
    collected tarball) contains `needle`; fails listing the evidence when there is none."""
    for e in f.evidence:
        if e.host == host and e.file == file and e.line > 0 and needle in bundle_line(run.bundles[host], file, e.line):
            return e
    got = [(e.host, e.file, e.line, e.text) for e in f.evidence]
    raise AssertionError(f"{f.rule} quotes no line of {host}:{file} containing {needle!r}; evidence: {got}")


def only_on(findings: list[Finding], host: str) -> list[Finding]:
    """The serious findings, asserting they all concern exactly `host`."""
    serious = [f for f in findings if f.severity in SERIOUS]
    assert serious, "no error or warning for the expected cause"
    assert {tuple(f.hosts) for f in serious} == {(host,)}, [(f.rule, f.hosts, f.explanation) for f in serious]
    return serious


# --- scenarios, each built once per module ---------------------------------------------------------------


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        fl = FlannelLab(lab, 2).build()
        for h in fl.hosts:  # what flanneld >= 0.9.1 adds; without any rule iptables-save is empty (not evaluated)
            fl.sh(h.name, FLANNEL_RULES)
        return fl

    def probe(fl: FlannelLab) -> dict[str, bool | str]:
        max_seen = fl.sh("master", f"cat /proc/sys/{CONNTRACK_MAX.replace('.', '/')}").stdout.strip()
        return {**pods(fl), CONNTRACK_MAX: max_seen}

    return run_scenario(tmp_path_factory.mktemp("healthy"), setup, probe)


@pytest.fixture(scope="module")
def reject(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        fl = FlannelLab(lab, 2).build()
        fl.sh("node1", RHEL_DEFAULT)
        return fl

    return run_scenario(tmp_path_factory.mktemp("reject"), setup, pods)


@pytest.fixture(scope="module")
def fabric_drop(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        fl = FlannelLab(lab, 2).build(cloud=True)  # cloud VMs: a security group may sit in front of their NICs
        # node1's "security group", emulated in the fabric where its bundles cannot see it
        lab.sh("fabric", "sysctl -qw net.bridge.bridge-nf-call-iptables=1 && "
                         f"iptables -A FORWARD -p udp --dport 8472 -d {NODE1} -j DROP")
        return fl

    return run_scenario(tmp_path_factory.mktemp("fabric"), setup, pods)


@pytest.fixture(scope="module")
def wrong_vtep(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        fl = FlannelLab(lab, 2, vtep={"master": "172.16.0.11"}).build()
        fl.sh("node1", "ip addr flush dev eth0 && ip addr add 172.17.0.12/24 dev eth0")  # node1 cannot reach 172.16/24
        return fl

    return run_scenario(tmp_path_factory.mktemp("vtep"), setup, pods)


@pytest.fixture(scope="module")
def forward_drop(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        fl = FlannelLab(lab, 2).build()
        fl.sh("node1", "iptables -P FORWARD DROP")
        return fl

    return run_scenario(tmp_path_factory.mktemp("fwdrop"), setup, pods, also_lab_collect=True)


@pytest.fixture(scope="module")
def two_defaults(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        fl = FlannelLab(lab, 2).build()
        fl.sh("node1", "ip addr add 10.99.0.1/32 dev lo && iptables -A INPUT -i eth0 -d 10.99.0.1 -j DROP")
        fl.sh("master", "ip route add default via 172.16.0.12 dev eth0 && "
                        f"ip route append default via {NODE1} dev eth1")
        return fl

    def probe(fl: FlannelLab) -> dict[str, bool | str]:
        # the kernel keeps using the first default route: the path through the second one does not help
        return {"master->behind-node1": fl.ping("master", "10.99.0.1", count=2)}

    return run_scenario(tmp_path_factory.mktemp("defaults"), setup, probe)


@pytest.fixture(scope="module")
def same_subnet(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def setup(lab: NetnsLab) -> FlannelLab:
        # master's eth0 (management bridge) gets a 192.168.0.0/24 address first: its route is listed first
        fl = FlannelLab(lab, 2).build(first_address={"master": "ip addr add 192.168.0.21/24 dev eth0"})
        fl.sh("node1", "sysctl -qw net.ipv4.conf.all.arp_ignore=1")
        return fl

    def probe(fl: FlannelLab) -> dict[str, bool | str]:
        return {"master->node1": fl.ping("master", NODE1)}

    return run_scenario(tmp_path_factory.mktemp("subnet"), setup, probe)


@pytest.fixture(scope="module")
def small_mtu(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    def probe(fl: FlannelLab) -> dict[str, bool | str]:
        return {"big": fl.ping("master", POD1, size=1428), "small": fl.ping("master", POD1)}

    return run_scenario(tmp_path_factory.mktemp("mtu"),
                        lambda lab: FlannelLab(lab, 2).build(eth1_mtu={"node1": 1400}), probe)


# --- the healthy lab ------------------------------------------------------------------------------------


def test_healthy_lab_raises_no_error_or_warning(healthy: LabRun) -> None:
    assert [healthy.kernel[k] for k in ("pod0->pod1", "pod1->pod0", "master->node1")] == [True, True, True]
    serious = [(f.rule, f.hosts, f.explanation) for f in healthy.result.findings if f.severity in SERIOUS]
    assert serious == []
    # not vacuous: the rules this module checks did run on both hosts (none lacked its sources)
    runs = {r.rule: r for r in healthy.result.rule_runs}
    for rule_id in ("NS101", "NS102", "NS201", "NS202", "NS203", "NS301", "NS303"):
        assert runs[rule_id].status == "passed" and sorted(runs[rule_id].hosts) == ["master", "node1"], runs[rule_id]
    # bare metal (no cloud MAC prefix, no metadata route): no security group is assumed, and every required flow
    # is certainly reachable, with that assumption stated
    assert {f.verdict for f in healthy.result.flows} == {"reachable"}
    assert all(any("no cloud evidence" in a for a in f.assumptions) for f in healthy.result.flows)


def test_collected_sysctls_are_the_kernels(healthy: LabRun) -> None:
    host = healthy.snapshot.host("master")
    assert host is not None
    collected = host.sysctl(CONNTRACK_MAX)
    assert collected == healthy.kernel[CONNTRACK_MAX]


# --- one cause per scenario ------------------------------------------------------------------------------


def test_reject_in_input_and_forward(reject: LabRun) -> None:
    assert reject.kernel == {"pod0->pod1": False, "pod1->pod0": False, "master->node1": True}
    found = only_on(reject.findings("iptables-reject"), "node1")
    assert {f.severity for f in found} == {Severity.ERROR}
    by_chain = {}
    for f in found:
        for chain in ("INPUT", "FORWARD"):
            if f" of {chain} rejects" in f.explanation:
                by_chain[chain] = f
    assert set(by_chain) == {"INPUT", "FORWARD"}, [f.explanation for f in found]
    assert "master VTEP 192.168.0.11 → node1 VTEP 192.168.0.12 (udp 8472)" in by_chain["INPUT"].explanation
    assert "master pods (10.244.0.0/24) → node1 pods (10.244.1.0/24)" in by_chain["FORWARD"].explanation
    assert by_chain["INPUT"].remediation[0] == "iptables -I INPUT 5 -p udp -s 192.168.0.11 --dport 8472 -j ACCEPT"
    assert by_chain["FORWARD"].remediation[0] == "iptables -I FORWARD 1 -s 10.244.0.0/16 -j ACCEPT"
    for chain, f in by_chain.items():
        e = quotes(reject, f, "firewall/iptables-save", f"-A {chain} -j REJECT --reject-with icmp-host-prohibited",
                   "node1")
        assert "icmp-host-prohibited" in e.text


def test_forward_policy_drop(forward_drop: LabRun) -> None:
    assert forward_drop.kernel == {"pod0->pod1": False, "pod1->pod0": False, "master->node1": True}
    (f,) = only_on(forward_drop.findings("forward-policy-drop"), "node1")
    assert f.severity == Severity.ERROR and "10.244.0.0/16" in f.explanation
    quotes(forward_drop, f, "firewall/iptables-save", ":FORWARD DROP", "node1")
    assert forward_drop.findings("iptables-reject") == []  # the FORWARD policy is NS202's, not NS201's


def test_forward_policy_drop_on_the_labs_own_bundles(forward_drop: LabRun) -> None:
    """FlannelLab.collect's bundles have no subnet.env (no FLANNEL_NETWORK): the pod network is inferred from
    the kernel state flanneld left (flannel.1's lease, the peer routes), and NS202 still finds the drop."""
    result = run_rules(load_snapshot(forward_drop.lab_collect))
    (f,) = only_on(forward_drop.findings("forward-policy-drop", result), "node1")
    host = next(b for b in forward_drop.lab_collect if "/netsnap-node1-" in b)
    e = next(e for e in f.evidence if e.file == "firewall/iptables-save")
    assert bundle_line(host, e.file, e.line).startswith(":FORWARD DROP")


def test_vtep_on_the_wrong_nic(wrong_vtep: LabRun) -> None:
    assert not wrong_vtep.kernel["pod0->pod1"] and not wrong_vtep.kernel["pod1->pod0"]
    (f,) = only_on(wrong_vtep.findings("flannel-wrong-iface"), "master")
    assert f.severity == Severity.ERROR
    assert "172.16.0.11 on eth0" in f.explanation and "through eth1" in f.explanation
    quotes(wrong_vtep, f, "links/ip-d-link", "vxlan id 1 local 172.16.0.11", "master")


def test_two_default_routes_at_the_same_metric(two_defaults: LabRun) -> None:
    assert two_defaults.kernel == {"master->behind-node1": False}
    (f,) = only_on(two_defaults.findings("duplicate-default-route"), "master")
    assert f.severity == Severity.ERROR and "same metric 0" in f.explanation
    quotes(two_defaults, f, "routes/ip-route", "default via 172.16.0.12 dev eth0", "master")
    quotes(two_defaults, f, "routes/ip-route", f"default via {NODE1} dev eth1", "master")


def test_same_subnet_on_two_nics(same_subnet: LabRun) -> None:
    assert same_subnet.kernel == {"master->node1": False}
    found = only_on(same_subnet.findings("duplicate-subnet-route"), "master")
    (f,) = [f for f in found if f.severity == Severity.ERROR]
    assert "192.168.0.0/24" in f.explanation and "eth0, eth1" in f.explanation
    quotes(same_subnet, f, "routes/ip-route", "192.168.0.0/24 dev eth0", "master")
    quotes(same_subnet, f, "routes/ip-route", "192.168.0.0/24 dev eth1", "master")


def test_mtu_mismatch(small_mtu: LabRun) -> None:
    assert small_mtu.kernel == {"big": False, "small": True}
    (f,) = only_on(small_mtu.findings("mtu-mismatch"), "node1")
    assert f.severity == Severity.ERROR and "MTU 1450" in f.explanation and "MTU 1400" in f.explanation
    quotes(small_mtu, f, "links/ip-d-link", "flannel.1: <", "node1")
    quotes(small_mtu, f, "links/ip-d-link", "eth1@", "node1")


# --- UDP 8472 dropped outside the hosts -----------------------------------------------------------------


def node1_export_without_vxlan(path: Path) -> Path:
    """node1's group as `openstack security group rule list -f json` prints it: the fixture's rules minus
    the UDP 8472 one (ICMP from the node network and all egress stay)."""
    rows = json.loads((SG_FIXTURES / "openstack-rule-list.json").read_text())
    kept = [r for r in rows if r["IP Protocol"] != "udp"]
    assert len(kept) == len(rows) - 1
    path.write_text(json.dumps(kept, indent=1))
    return path


def test_fabric_drop_without_export_is_unverified(fabric_drop: LabRun) -> None:
    assert fabric_drop.kernel == {"pod0->pod1": False, "pod1->pod0": False, "master->node1": True}
    found = fabric_drop.findings("vxlan-port-blocked")
    assert sorted(h for f in found for h in f.hosts) == ["master", "node1"]
    for f in found:
        assert f.title.startswith("Unverified") and f.severity != Severity.ERROR, f.title
        quotes(fabric_drop, f, "links/ip-d-link", "dstport 8472", f.hosts[0])
    # node1's flannel.1 sent (its replies) but received nothing: the note becomes a warning there only
    severities = {f.hosts[0]: f.severity for f in found}
    assert severities == {"node1": Severity.WARNING, "master": Severity.INFO}, [(f.hosts, f.explanation) for f in found]
    (silent,) = [f for f in found if f.hosts == ["node1"]]
    rx = quotes(fabric_drop, silent, "links/ip-s-link", "RX:", "node1")
    assert rx.text.startswith("flannel.1: RX packets 0, TX packets ")
    assert bundle_line(fabric_drop.bundles["node1"], "links/ip-s-link", rx.line + 1).split()[1] == "0"  # RX packets


def test_fabric_drop_with_the_export_is_vxlan_port_blocked(fabric_drop: LabRun, tmp_path: Path) -> None:
    snap = fabric_drop.snapshot
    groups: SecurityGroups = attach(snap, f"master={SG_FIXTURES / 'native.yaml'}")
    export = node1_export_without_vxlan(tmp_path / "sg-node1.json")
    groups = attach(snap, f"{NODE1}={export}", groups)
    result = run_rules(snap, security_groups=groups)
    found = fabric_drop.findings("vxlan-port-blocked", result)  # master's export allows it: nothing about master
    assert [(f.severity, f.hosts) for f in found] == [(Severity.ERROR, ["node1", "master"])], found
    (f,) = found
    assert "ingress udp 8472 from 192.168.0.11" in f.explanation and str(export) in f.explanation
    assert any(e.file == str(export) for e in f.evidence)
    quotes(fabric_drop, f, "links/ip-d-link", "dstport 8472", "node1")


def test_healthy_lab_with_exports_that_allow_vxlan(healthy: LabRun) -> None:
    snap = healthy.snapshot
    groups = attach(snap, f"master={SG_FIXTURES / 'native.yaml'}")
    groups = attach(snap, f"node1={SG_FIXTURES / 'openstack-rule-list.json'}", groups)
    result = run_rules(snap, security_groups=groups)
    assert healthy.findings("vxlan-port-blocked", result) == []
    assert next(r for r in result.rule_runs if r.rule == "NS203").status == "passed"
