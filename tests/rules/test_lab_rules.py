"""The rules on bundles the real collector captures from network-namespace labs, cross-checked with the
kernel: when a rule reports a cause, pods really cannot reach each other; a healthy lab raises nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netsnap.engine.findings import Finding, Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from tests.lab.cluster import FlannelLab
from tests.lab.netns import NetnsLab, skip_reason

pytestmark = [pytest.mark.netns, pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")]


@pytest.fixture
def lab() -> Iterator[NetnsLab]:
    with NetnsLab() as nl:
        yield nl


def serious(fl: FlannelLab, tmp_path: Path) -> list[Finding]:
    result = run_rules(load_snapshot(fl.collect(tmp_path / "bundles")))
    failed = [n.reason for n in result.not_evaluated if n.reason.startswith("rule failed")]
    assert not failed, failed
    return [f for f in result.findings if f.severity in (Severity.ERROR, Severity.WARNING)]


def pods_talk(fl: FlannelLab) -> bool:
    return fl.ping("c-master", fl.host("node1").pod_ip)


def test_healthy_lab_raises_nothing(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build()
    assert pods_talk(fl)
    assert [(f.rule, f.explanation) for f in serious(fl, tmp_path)] == []


def test_wrong_vtep_address(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2, vtep={"master": "172.16.0.11"}).build()
    fl.sh("fabric", "ip link set br-mgmt type bridge && bridge link set dev m1 isolated on && "
                    "bridge link set dev m0 isolated on")  # the management network does not carry node traffic
    assert not pods_talk(fl)
    found = serious(fl, tmp_path)
    assert ("NS301", ("master",)) in {(f.rule, tuple(f.hosts)) for f in found}
    f = next(f for f in found if f.rule == "NS301")
    assert "172.16.0.11" in f.explanation and "eth1" in f.explanation


def test_reject_in_input(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", "iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT && "
                   "iptables -A INPUT -p icmp -j ACCEPT && "
                   "iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited")
    assert not pods_talk(fl)
    found = serious(fl, tmp_path)
    rejects = [f for f in found if f.rule == "NS201" and f.hosts == ["node1"]]
    assert rejects and "UDP 8472" in rejects[0].explanation


def test_underlay_mtu_too_small(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build(eth1_mtu={"node1": 1400, "master": 1400})
    assert pods_talk(fl)  # small packets pass; full-size ones are fragmented by the kernel (dropped on many clouds)
    found = serious(fl, tmp_path)
    assert {tuple(f.hosts) for f in found if f.rule == "NS303"} == {("master",), ("node1",)}
