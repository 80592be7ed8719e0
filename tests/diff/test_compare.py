"""Role-normalised comparison: what differs first, and same-role hosts compare clean."""

from __future__ import annotations

from netsnap.diff.compare import compare_hosts
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.model.evidence import Evidence
from tests.diff.builders import host

GOOD = host("master-ok", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)],
            input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})


def test_same_role_hosts_compare_clean() -> None:
    other = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
                 input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})
    assert compare_hosts(GOOD, other) == []


def test_extra_management_network_and_default_route_come_first() -> None:
    bad = host("master", {"eth0": ["172.16.0.4/24"], "eth1": ["192.168.0.15/24"]},
               [("eth0", "172.16.0.1", 100)],
               input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})
    finding = Finding(rule="NS301", cause="flannel-wrong-iface", severity=Severity.ERROR,
                      confidence=Confidence.HIGH, title="flannel uses eth0", hosts=["master"], explanation="x",
                      evidence=[Evidence(host="master", file="routes/ip-route", line=1, text="default")])
    diffs = compare_hosts(GOOD, bad, bad_findings=[finding])
    assert diffs, "the extra network must show"
    first = diffs[0]
    assert first.kind == "default-route"
    assert first.bad is not None and "dev eth0" in first.bad
    assert first.explains == ["NS301"]
    assert "explains NS301" in first.explanation
    kinds = {(d.kind, d.key) for d in diffs}
    assert ("network", "eth0 172.16.0.0/24") in kinds
    # the shared cluster network is not reported
    assert not any(d.key.startswith("eth1") for d in diffs)


def test_reject_rule_difference_is_reported_by_meaning_not_text() -> None:
    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -j REJECT --reject-with icmp-host-prohibited",
                            "-A INPUT -s 192.168.0.0/24 -j ACCEPT"],
               sysctls={"net.ipv4.ip_forward": "1"})
    diffs = compare_hosts(GOOD, bad)
    assert len(diffs) == 1
    d = diffs[0]
    assert d.kind == "iptables-rules" and d.good is None
    assert d.bad == "-j REJECT --reject-with icmp-host-prohibited"
    assert d.evidence[0].line == 11


def test_sysctl_difference_explains_its_cause() -> None:
    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "0"})
    finding = Finding(rule="NS401", cause="ip-forward-disabled", severity=Severity.ERROR,
                      confidence=Confidence.HIGH, title="forwarding off", hosts=["master-2"], explanation="x")
    diffs = compare_hosts(GOOD, bad, bad_findings=[finding])
    assert [(d.kind, d.good, d.bad, d.explains) for d in diffs] == [
        ("sysctl", "1", "0", ["NS401"]),
        ("finding", None, "forwarding off", []),  # the rule fires on the bad side only
    ]


def test_pairing_by_name_and_no_reuse_of_a_good_host() -> None:
    from netsnap.diff.compare import pair_hosts

    master_good = host("master", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)])
    master_bad = host("master", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)])
    node_bad = host("node1", {"eth0": ["192.168.0.16/24"]}, [("eth0", "192.168.0.1", 100)])
    pairs = pair_hosts([master_good], [node_bad, master_bad])
    assert [(g.name, b.name) for g, b in pairs] == [("master", "master")]


def test_a_difference_on_a_failing_trace_path_explains_it() -> None:
    from netsnap.trace.result import Step, TraceResult

    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -j REJECT --reject-with icmp-host-prohibited",
                            "-A INPUT -s 192.168.0.0/24 -j ACCEPT"],
               sysctls={"net.ipv4.ip_forward": "1"})
    trace = TraceResult(
        src_host="node1", dst_ip="192.168.0.16", verdict="unreachable", disposition="denied-in",
        hops=[Step(host="master-2", stage="INPUT filter", action="deny", detail="REJECT",
                   consulted=[Evidence(host="master-2", file="firewall/iptables-save", line=11, text="-j REJECT")])],
    )
    diffs = compare_hosts(GOOD, bad, bad_traces=[trace])
    assert diffs[0].explains == ["trace node1 → 192.168.0.16 (denied-in)"]
    assert "failing path" in diffs[0].explanation
    reachable = trace.model_copy(update={"verdict": "reachable", "disposition": "delivered"})
    assert compare_hosts(GOOD, bad, bad_traces=[reachable])[0].explains == []
